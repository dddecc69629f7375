import { Migration } from '@mikro-orm/migrations';

/**
 * Monitoring (issue 13): the minutes a person would spend on what one successful step of a node
 * kind does, for the "time saved" success metric. `doc_id` '' holds the user's own defaults; a
 * flow's doc id overrides them for that flow (n8n's per-workflow estimate).
 */
export class Migration0010Monitor extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
create table time_saved_estimates (
  user_id uuid not null references users(id) on delete cascade,
  doc_id text not null default '',
  node_type text not null,
  minutes numeric not null check (minutes >= 0 and minutes <= 1440),
  updated_at timestamptz not null default now(),
  primary key (user_id, doc_id, node_type)
);
create index effects_user_created_idx on effects (user_id, created_at);
create index agent_requests_user_finished_idx on agent_requests (user_id, finished_at) where status in ('done', 'failed');
`);
  }

  override async down(): Promise<void> {
    this.addSql(`
drop index if exists agent_requests_user_finished_idx;
drop index if exists effects_user_created_idx;
drop table if exists time_saved_estimates;
`);
  }
}
