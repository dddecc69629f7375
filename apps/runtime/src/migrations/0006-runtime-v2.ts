import { Migration } from '@mikro-orm/migrations';

/**
 * Runtime v2: fenced ownership (a lease epoch bumped by every claim; one lease row per runtime
 * process, so a heartbeat costs one row whatever the number of runs), pinned machines (each flow
 * version stores the machine it compiled to and the format of that machine), a `parked` status for
 * runs whose pinned machine this runtime cannot execute, and commands acknowledged by the write of
 * the transition they caused.
 */
export class Migration0006RuntimeV2 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
alter table runs add column lease_epoch bigint not null default 0;
-- Leases are per process now (runtime_instances); the per-run lease column of 0003 is gone.
drop index if exists runs_lease_idx;
alter table runs drop column lease_until;
alter table runs drop constraint if exists runs_status_check;
alter table runs add constraint runs_status_check check (status in ('running', 'waiting', 'completed', 'failed', 'skipped', 'cancelled', 'parked'));
alter table flow_versions add column compiled jsonb null;
alter table flow_versions add column machine_format text null;
alter table run_commands add column outcome text null;
create table runtime_instances (
  id text primary key,
  lease_until timestamptz not null,
  started_at timestamptz not null default now()
);
create index runs_owner_idx on runs (owner) where status in ('running', 'waiting');
`);
  }

  override async down(): Promise<void> {
    this.addSql(`
drop index if exists runs_owner_idx;
drop table if exists runtime_instances;
alter table run_commands drop column outcome;
alter table flow_versions drop column machine_format;
alter table flow_versions drop column compiled;
alter table runs drop constraint if exists runs_status_check;
alter table runs add constraint runs_status_check check (status in ('running', 'waiting', 'completed', 'failed', 'skipped', 'cancelled'));
alter table runs add column lease_until timestamptz null;
create index runs_lease_idx on runs (lease_until) where status in ('running', 'waiting');
alter table runs drop column lease_epoch;
`);
  }
}
