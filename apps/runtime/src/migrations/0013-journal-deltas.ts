import { Migration } from '@mikro-orm/migrations';

/**
 * The run journal as deltas plus checkpoints. A step's row carries either the full snapshot (a
 * checkpoint: the first step, a status change, the last step, and every 20th step) or a JSON Patch
 * (RFC 6902) `delta` from the row `base` names. `value` is the state value at that step, on every
 * step row, so readers of a step's state need neither. Restore is checkpoint + the deltas after it.
 */
export class Migration0013JournalDeltas extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table run_journal add column value jsonb null, add column delta jsonb null, add column base int null;');
    this.addSql(`update run_journal set value = snapshot->'value' where snapshot is not null;`);
  }

  override async down(): Promise<void> {
    this.addSql('alter table run_journal drop column if exists value, drop column if exists delta, drop column if exists base;');
  }
}
