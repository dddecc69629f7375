import { Migration } from '@mikro-orm/migrations';

/**
 * Agents are owned like runs: one process holds an agent (`owner`, the process's instance id under
 * its `runtime_instances` lease) and runs its whole mailbox, whoever submitted the requests; each
 * claim bumps `lease_epoch`, which fences off the previous owner's writes. `agent_requests.owner`
 * now names the process that ran (or runs) a request; `submitted_by` the one that queued it.
 */
export class Migration0015AgentLeases extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table agents add column owner text null, add column lease_epoch bigint not null default 0;');
    this.addSql('alter table agent_requests add column submitted_by text null;');
    this.addSql('update agent_requests set submitted_by = owner;');
    this.addSql('create index agents_owner_idx on agents (owner) where deleted_at is null;');
  }

  override async down(): Promise<void> {
    this.addSql('drop index if exists agents_owner_idx;');
    this.addSql('alter table agent_requests drop column if exists submitted_by;');
    this.addSql('alter table agents drop column if exists lease_epoch, drop column if exists owner;');
  }
}
