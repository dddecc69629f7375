import { Migration } from '@mikro-orm/migrations';

/**
 * A behavior for everyone (`settings.audience: 'everyone'`, deployed by the instance owner) runs for
 * every active user, each in their own scope: its trigger rows say so, so events of any user and
 * each cron tick or condition check fan out to one activation per user.
 */
export class Migration0019BehaviorAudience extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table flow_triggers add column audience text not null default 'owner' check (audience in ('owner', 'everyone'));`);
    this.addSql(`create index flow_triggers_everyone_idx on flow_triggers (kind, event_type) where active and audience = 'everyone';`);
  }

  override async down(): Promise<void> {
    this.addSql('drop index if exists flow_triggers_everyone_idx;');
    this.addSql('alter table flow_triggers drop column if exists audience;');
  }
}
