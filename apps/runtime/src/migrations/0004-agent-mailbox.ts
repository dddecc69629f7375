import { Migration } from '@mikro-orm/migrations';

/**
 * Agents, second step: per-agent caps, feedback tied to a message, proposals tied to the workflow
 * step that made them, and a persisted mailbox (requests survive a restart; a workflow step that
 * asks again gets the stored result instead of a second execution).
 */
export class Migration0004AgentMailbox extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
alter table agents add column caps jsonb not null default '{}' check (jsonb_typeof(caps) = 'object');
alter table messages add column feedback jsonb not null default '[]' check (jsonb_typeof(feedback) = 'array');
alter table agent_approvals add column node_id text null;
alter table agent_approvals add column result jsonb null;
create index agent_approvals_run_idx on agent_approvals (run_id) where run_id is not null;

create table agent_requests (
  id uuid primary key,
  agent_id uuid not null references agents(id) on delete cascade,
  user_id uuid not null,
  -- A workflow step's effect key: the same step asking again (retry, restore) finds its request.
  request_key text null unique,
  kind text not null check (kind in ('skill', 'chat')),
  payload jsonb not null,
  status text not null default 'queued' check (status in ('queued', 'running', 'done', 'failed')),
  -- The runtime process whose mailbox holds it: a restarted process resumes its own requests.
  owner text null,
  result jsonb null,
  error jsonb null,
  created_at timestamptz not null default now(),
  started_at timestamptz null,
  finished_at timestamptz null
);
create index agent_requests_open_idx on agent_requests (agent_id, created_at) where status in ('queued', 'running');
`);
  }

  override async down(): Promise<void> {
    this.addSql(`
drop table if exists agent_requests;
drop index if exists agent_approvals_run_idx;
alter table agent_approvals drop column result;
alter table agent_approvals drop column node_id;
alter table messages drop column feedback;
alter table agents drop column caps;
`);
  }
}
