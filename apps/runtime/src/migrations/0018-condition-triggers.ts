import { Migration } from '@mikro-orm/migrations';

/**
 * Condition triggers (`trigger.condition`, checked every N minutes) are deployed as trigger rows
 * of their own kind; the interval and the condition are in `filters` (the node's params). Each
 * check claims a `(trigger, interval start)` row in `schedule_fires`, like a cron tick.
 */
export class Migration0018ConditionTriggers extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table flow_triggers drop constraint if exists flow_triggers_kind_check;');
    this.addSql(`alter table flow_triggers add constraint flow_triggers_kind_check check (kind in ('event', 'schedule', 'condition', 'webhook', 'manual'));`);
  }

  override async down(): Promise<void> {
    this.addSql(`delete from flow_triggers where kind = 'condition';`);
    this.addSql('alter table flow_triggers drop constraint if exists flow_triggers_kind_check;');
    this.addSql(`alter table flow_triggers add constraint flow_triggers_kind_check check (kind in ('event', 'schedule', 'webhook', 'manual'));`);
  }
}
