import { Migration } from '@mikro-orm/migrations';

/**
 * Multi-agent plan runs (issue 11). `plan_runs` pins the plan it started with (agents resolved);
 * `plan_steps` is the run's snapshot, one row per step, written on every step transition and
 * before a step's request goes to its agent's mailbox; `plan_journal` is the append-only history
 * (the timeline of which steps overlapped).
 */
export class Migration0012Plans extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
create table plan_runs (
  id uuid primary key,
  user_id uuid not null,
  doc_id text not null,
  doc_version integer null,
  name text not null,
  document jsonb not null,
  plan jsonb not null,
  context jsonb not null default '{}',
  status text not null check (status in ('running', 'success', 'failed', 'cancelled')),
  cancel_requested boolean not null default false,
  outcome jsonb null,
  -- The runtime process running it: a restarted process resumes its own unfinished runs.
  owner text null,
  started_at timestamptz not null,
  finished_at timestamptz null
);
create index plan_runs_user_idx on plan_runs (user_id, started_at desc, id);
create index plan_runs_open_idx on plan_runs (owner) where status = 'running';

create table plan_steps (
  run_id uuid not null references plan_runs(id) on delete cascade,
  name text not null,
  node_id text not null,
  agent_id uuid null,
  skill text not null,
  critical boolean not null,
  depends_on jsonb not null default '[]',
  status text not null check (status in ('pending', 'running', 'done', 'failed', 'skipped', 'cancelled')),
  attempt integer not null default 0,
  params jsonb null,
  output jsonb null,
  error text null,
  started_at timestamptz null,
  finished_at timestamptz null,
  primary key (run_id, name)
);

create table plan_journal (
  id bigserial primary key,
  run_id uuid not null references plan_runs(id) on delete cascade,
  step text null,
  event text not null,
  attempt integer null,
  data jsonb null,
  at timestamptz not null
);
create index plan_journal_run_idx on plan_journal (run_id, id);
`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists plan_journal; drop table if exists plan_steps; drop table if exists plan_runs;');
  }
}
