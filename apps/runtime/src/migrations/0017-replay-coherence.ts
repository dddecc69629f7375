import { Migration } from '@mikro-orm/migrations';

/**
 * Monitoring (issue 13), second part.
 *
 * - Replay: a run re-run from a chosen step of a finished run points at it (`replay_of`) and names
 *   the step (`replay_from`); the old run's page lists its replays through the index.
 * - Coherence across sessions: each memory probe (a fact an agent stored in an earlier session,
 *   asked about in a new one) is one row with the question, the answer and the verdict, so the
 *   figure can be recomputed and audited.
 */
export class Migration0017ReplayCoherence extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
alter table runs add column replay_of uuid null references runs(id) on delete set null;
alter table runs add column replay_from text null;
create index runs_replay_of_idx on runs (replay_of) where replay_of is not null;
create table coherence_probes (
  id uuid primary key,
  user_id uuid not null references users(id) on delete cascade,
  agent_id uuid not null,
  batch_id uuid not null,
  fact_key text not null,
  expected jsonb not null,
  fact_stored_at timestamptz not null,
  question text not null,
  answer text not null,
  consistent boolean not null,
  model text not null,
  at timestamptz not null
);
create index coherence_probes_user_at_idx on coherence_probes (user_id, at);
`);
  }

  override async down(): Promise<void> {
    this.addSql(`
drop table if exists coherence_probes;
drop index if exists runs_replay_of_idx;
alter table runs drop column if exists replay_from;
alter table runs drop column if exists replay_of;
`);
  }
}
