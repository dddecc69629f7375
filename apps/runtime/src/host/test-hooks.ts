import type { EntityManager } from '@mikro-orm/postgresql';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { sql } from './db';

const RefuseInput = z.object({ runId: z.string().uuid().nullable(), on: z.boolean() });

/**
 * Tests only (SWITCHYARD_TEST_HOOKS=1): make the database itself refuse run writes. A trigger on
 * `run_journal` raises for the listed runs (or every run, `runId: null`), so the runtime meets a
 * real refused write — on PGlite and PostgreSQL alike — and must report it, keep the run's stored
 * state and retry.
 */
export function registerFaultRoutes(app: FastifyInstance, em: () => EntityManager, parking?: () => { live: number; parked: number; woken: number }) {
  /** How many runs are live (actors in memory) here, and how many were parked and woken. */
  app.get('/__test/parking', async () => parking?.() ?? { live: 0, parked: 0, woken: 0 });

  app.post('/__test/refuse-writes', async (req, reply) => {
    const parsed = RefuseInput.safeParse(req.body);
    if (!parsed.success) return reply.code(400).send({ error: { code: 'BAD_INPUT', message: parsed.error.message } });
    const { runId, on } = parsed.data;
    const db = em();
    await sql(db, `create table if not exists test_refused_writes (run_id uuid null)`);
    await sql(db, `create or replace function test_refuse_run_writes() returns trigger language plpgsql as $$
      begin
        if exists (select 1 from test_refused_writes t where t.run_id is null or t.run_id = new.run_id) then
          raise exception 'run write refused by a test hook';
        end if;
        return new;
      end $$`);
    await sql(db, `drop trigger if exists test_refuse_run_writes on run_journal`);
    await sql(db, `create trigger test_refuse_run_writes before insert on run_journal for each row execute function test_refuse_run_writes()`);
    if (on) await sql(db, 'insert into test_refused_writes (run_id) values (?)', [runId]);
    else await sql(db, 'delete from test_refused_writes where run_id is not distinct from ?', [runId]);
    return { ok: true };
  });
}
