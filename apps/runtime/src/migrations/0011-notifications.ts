import { Migration } from '@mikro-orm/migrations';

/**
 * Smart notifications (issue 10): a state with its timestamps, the contact a suggestion is about,
 * the suggestion key and behavior that dedupe it, what acting produced, and the engagement facts
 * (shown, acted, dismissed, snoozed, returned) the monitoring view reports per behavior and action.
 */
export class Migration0011Notifications extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
alter table notifications
  add column state text not null default 'unread' check (state in ('unread', 'read', 'acted', 'dismissed', 'snoozed')),
  add column acted_result jsonb null,
  add column snoozed_at timestamptz null,
  add column returned_at timestamptz null,
  add column contact_id uuid null references contacts(id) on delete set null deferrable initially deferred,
  add column suggestion_key text null,
  add column behavior_id text null,
  add column updated_at timestamptz not null default now();

update notifications set updated_at = created_at, state = case
  when acted_at is not null then 'acted'
  when dismissed_at is not null then 'dismissed'
  when snoozed_until is not null and snoozed_until > now() then 'snoozed'
  when read_at is not null then 'read'
  else 'unread' end;

create index notifications_user_state_idx on notifications (user_id, state, created_at desc);
-- The snooze sweep: due snoozes across all users.
create index notifications_snoozed_due_idx on notifications (snoozed_until) where state = 'snoozed';
-- The dedupe window: the newest notification with this suggestion key (and contact).
create index notifications_suggestion_idx on notifications (user_id, suggestion_key, created_at desc) where suggestion_key is not null;

create table notification_engagement (
  id uuid primary key,
  user_id uuid not null references users(id),
  notification_id uuid not null references notifications(id) on delete cascade,
  behavior_id text null,
  notification_type text not null,
  event text not null check (event in ('shown', 'acted', 'opened', 'dismissed', 'snoozed', 'returned')),
  action_id text null,
  action_kind text null,
  at timestamptz not null
);
create index notification_engagement_user_idx on notification_engagement (user_id, at);
-- One 'shown' and at most one 'acted' per notification, whatever retries or races happen.
create unique index notification_engagement_once_idx on notification_engagement (notification_id, event) where event in ('shown', 'acted');

insert into notification_engagement (id, user_id, notification_id, behavior_id, notification_type, event, at)
  select gen_random_uuid(), user_id, id, null, type, 'shown', created_at from notifications;
insert into notification_engagement (id, user_id, notification_id, behavior_id, notification_type, event, action_id, at)
  select gen_random_uuid(), user_id, id, null, type, 'acted', acted_action, acted_at from notifications where acted_at is not null;
`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists notification_engagement;
alter table notifications drop column if exists state, drop column if exists acted_result, drop column if exists snoozed_at,
  drop column if exists returned_at, drop column if exists contact_id, drop column if exists suggestion_key,
  drop column if exists behavior_id, drop column if exists updated_at;`);
  }
}
