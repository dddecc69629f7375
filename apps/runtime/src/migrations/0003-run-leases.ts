import { Migration } from '@mikro-orm/migrations';

/**
 * Run ownership for several runtime processes on one database: the owner heartbeats its lease;
 * a run whose lease expired is adopted by another process.
 */
export class Migration0003RunLeases extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
alter table runs add column owner text null;
alter table runs add column lease_until timestamptz null;
create index runs_lease_idx on runs (lease_until) where status in ('running', 'waiting');
`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists runs_lease_idx; alter table runs drop column lease_until; alter table runs drop column owner;`);
  }
}
