import { Migration } from '@mikro-orm/migrations';

/**
 * Flow lifecycle (issue 9):
 * - a doc id is unique among a user's *live* flows only, so a deleted flow's row stays as the anchor
 *   of its runs' history while a new flow reuses the id;
 * - webhook deliveries already accepted, by signature, so a captured request cannot be replayed
 *   while its timestamp is still fresh.
 */
export class Migration0007FlowLifecycle extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
alter table flows drop constraint if exists flows_user_id_doc_id_key;
create unique index flows_user_doc_live_idx on flows (user_id, doc_id) where deleted_at is null;
create index flows_user_doc_idx on flows (user_id, doc_id);
create index flow_triggers_webhook_node_idx on flow_triggers (flow_id, node_id) where kind = 'webhook';

create table webhook_deliveries (
  trigger_id uuid not null references flow_triggers(id) on delete cascade,
  signature text not null,
  signed_at timestamptz not null,
  received_at timestamptz not null,
  primary key (trigger_id, signature)
);
create index webhook_deliveries_signed_idx on webhook_deliveries (trigger_id, signed_at);
`);
  }

  override async down(): Promise<void> {
    this.addSql(`
drop table if exists webhook_deliveries;
drop index if exists flow_triggers_webhook_node_idx;
drop index if exists flows_user_doc_idx;
drop index if exists flows_user_doc_live_idx;
alter table flows add constraint flows_user_id_doc_id_key unique (user_id, doc_id);
`);
  }
}
