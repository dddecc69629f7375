import { initTRPC } from '@trpc/server';
import { z } from 'zod';
const t = initTRPC.create();
type Item = { id: string; docId: string; kind: 'workflow'|'behavior'|'plan'; name: string; description: string; status: 'draft'|'deployed'; version: number; deployedVersion: number | null; updatedAt: string; lastRun: null | { id: string; status: string; startedAt: string } };
export const appRouter = t.router({
  health: t.procedure.query(() => ({ ok: true })),
  flows: t.router({ list: t.procedure.input(z.object({}).optional()).query(() => ({ items: [] as Item[] })) }),
  monitor: t.router({ live: t.procedure.subscription(async function* () { yield 1; }) }),
});
export type AppRouter = typeof appRouter;
