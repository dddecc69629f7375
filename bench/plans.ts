import type { EntityManager } from '@mikro-orm/postgresql';
import { createTRPCClient, httpLink } from '@trpc/client';
import { MEMORY_DATA_DIR } from '../apps/runtime/src/db/database';
import { agentsOverrides, mergeOverrides } from '../apps/runtime/src/agents/wiring';
import { loadConfig } from '../apps/runtime/src/config';
import { hostOverrides } from '../apps/runtime/src/host/wiring';
import { plansOverrides } from '../apps/runtime/src/plans/wiring';
import type { AppRouter } from '../apps/runtime/src/router';
import { createServer } from '../apps/runtime/src/server';
import type { Figure } from './harness';

const TOKEN = 'bench-plans-token-0123456789abcdef';
const BRANCHES = 5;
const DEPTH = 4;
const ROUNDS = 5;
const RESEARCH_TOOLS = ['getContact', 'searchWeb', 'enrichContact', 'searchEmails', 'memory'] as const;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Multi-agent plans (issue 11): a 20-step plan of 5 independent branches of 4 steps, each step a
 * real `research-contact` skill run through its agent's mailbox (one agent per branch, offline
 * model, embedded PGlite), in the real runtime in this process. Measured in the same run:
 * - the plan's wall time against the sum of its steps' own time (each request's time in its
 *   agent's mailbox, from `agent_requests`): above 100 % means the branches ran concurrently;
 * - the same wall time against its longest branch (the sum of that branch's steps' own time):
 *   the gap is the plan's overhead (step rows, journal, hand-offs, summary, scheduling);
 * - one branch alone (a 4-step chain, nothing else running): the overhead per step without
 *   five branches sharing PGlite's one connection.
 */
export async function planBenchmarks(): Promise<Figure[]> {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', SWITCHYARD_TOKEN: TOKEN, SWITCHYARD_DATA_DIR: MEMORY_DATA_DIR });
  const server = await createServer(config, { logger: false, seedDemo: false, ...mergeOverrides(agentsOverrides(config, {}, {}), hostOverrides(config, {}), plansOverrides(config)) });
  const url = await server.start();
  const em = () => server.services.db.orm.em.fork() as unknown as EntityManager;
  const api = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${url}/trpc`, headers: { authorization: `Bearer ${TOKEN}` } })] });
  try {
    const agents: { id: string }[] = [];
    for (let b = 0; b < BRANCHES; b++) agents.push(await api.agents.create.mutate({ name: `Researcher ${b + 1}`, skills: ['research-contact'], tools: [...RESEARCH_TOOLS] }));
    const contacts: { id: string }[] = [];
    for (let i = 0; i < BRANCHES * DEPTH; i++) {
      contacts.push(await api.crm.contacts.create.mutate({ name: `Contact ${i + 1}`, email: `contact${i + 1}@bench.test`, company: 'Bench', title: 'CTO' }));
    }

    /** Median wall time, sum of the steps' own time and longest branch's own time of a plan of `branches` chains of DEPTH steps. */
    async function measure(branches: number) {
      const nodes = [];
      const edges = [];
      for (let b = 0; b < branches; b++) {
        for (let d = 0; d < DEPTH; d++) {
          const id = `b${b}s${d}`;
          nodes.push({ id, type: 'plan.step', position: { x: d * 300, y: b * 200 }, params: { name: id, skill: 'research-contact', agent: agents[b]!.id, params: { contactId: contacts[b * DEPTH + d]!.id } } });
          if (d > 0) edges.push({ id: `e${b}-${d}`, source: `b${b}s${d - 1}`, target: id });
        }
      }
      const document = { schemaVersion: 1, id: `bench-plan-${branches}x${DEPTH}`, kind: 'plan', name: `${branches * DEPTH} steps, ${branches} branches`, nodes, edges };
      const walls: number[] = [];
      const sums: number[] = [];
      const longest: number[] = [];
      // One warm-up run, then ROUNDS measured ones.
      for (let r = 0; r <= ROUNDS; r++) {
        const t0 = performance.now();
        const run = await api.plans.run.mutate({ document, wait: true });
        const wall = performance.now() - t0;
        if (run.status !== 'success') throw new Error(`bench plan ${run.id} ended ${run.status}`);
        const rows = (await em().execute(
          `select payload->'meta'->>'nodeId' as node, extract(epoch from (finished_at - started_at)) * 1000 as ms from agent_requests where payload->'meta'->>'runId' = ?`, [run.id], 'all')) as { node: string; ms: string }[];
        if (rows.length !== branches * DEPTH) throw new Error(`bench plan ${run.id}: ${rows.length} step requests`);
        if (r === 0) continue;
        const own = new Map(rows.map((x) => [x.node, Number(x.ms)]));
        walls.push(wall);
        sums.push([...own.values()].reduce((a, b) => a + b, 0));
        longest.push(Math.max(...Array.from({ length: branches }, (_, b) => Array.from({ length: DEPTH }, (_, d) => own.get(`b${b}s${d}`) ?? 0).reduce((a, x) => a + x, 0))));
      }
      return { wall: median(walls), sum: median(sums), branch: median(longest) };
    }

    const wide = await measure(BRANCHES);
    const chain = await measure(1);
    const n = BRANCHES * DEPTH;
    return [
      { group: 'plans', name: `${n}-step plan, ${BRANCHES} branches: wall time`, unit: 'ms', ours: wide.wall, baseline: wide.sum, baselineName: "sum of its steps' own time", ratio: wide.sum / wide.wall, backend: 'pglite' },
      { group: 'plans', name: `${n}-step plan: wall vs longest branch (overhead ${(wide.wall - wide.branch).toFixed(0)} ms)`, unit: 'ms', ours: wide.wall, baseline: wide.branch, baselineName: "longest branch's steps' own time", ratio: wide.branch / wide.wall, backend: 'pglite' },
      { group: 'plans', name: `${DEPTH}-step chain, 1 agent: wall vs its steps (overhead ${((chain.wall - chain.sum) / DEPTH).toFixed(0)} ms/step)`, unit: 'ms', ours: chain.wall, baseline: chain.sum, baselineName: "sum of its steps' own time", ratio: chain.sum / chain.wall, backend: 'pglite' },
    ];
  } finally {
    await server.stop();
  }
}
