import { Migration } from '@mikro-orm/migrations';

/**
 * The whole initial schema, hand-written: the actor host and the scheduler query these tables with
 * raw SQL, so names and constraints here are a contract (see docs/data-model.md). Later changes go
 * into new numbered migrations; never edit this one after it shipped.
 */
export class Migration0001Initial extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
create table users (
  id uuid primary key,
  name text not null unique,
  token_hash text not null unique,
  created_at timestamptz not null default now()
);

create table flows (
  id uuid primary key,
  user_id uuid not null references users(id),
  doc_id text not null,
  kind text not null,
  name text not null,
  description text null,
  current_version int not null default 0,
  status text not null default 'draft' check (status in ('draft', 'deployed')),
  deployed_version int null,
  deleted_at timestamptz null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (user_id, doc_id)
);

create table flow_versions (
  flow_id uuid not null references flows(id) on delete cascade,
  version int not null check (version > 0),
  document jsonb not null,
  note text null,
  created_at timestamptz not null default now(),
  primary key (flow_id, version)
);

create table flow_triggers (
  id uuid primary key,
  flow_id uuid not null references flows(id) on delete cascade,
  user_id uuid not null,
  version int not null,
  node_id text not null,
  kind text not null check (kind in ('event', 'schedule', 'webhook', 'manual')),
  event_type text null,
  filters jsonb null,
  cron text null,
  timezone text null,
  webhook_secret text null,
  active boolean not null default true,
  created_at timestamptz not null default now()
);
create index flow_triggers_lookup_idx on flow_triggers (user_id, kind, event_type) where active;
create index flow_triggers_flow_idx on flow_triggers (flow_id);

create table runs (
  id uuid primary key,
  user_id uuid not null,
  flow_id uuid not null references flows(id),
  flow_version int not null,
  status text not null check (status in ('running', 'waiting', 'completed', 'failed', 'skipped', 'cancelled')),
  trigger_node_id text null,
  trigger jsonb not null default '{}',
  snapshot jsonb null,
  snapshot_version int not null default 0,
  reason text null,
  error jsonb null,
  started_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  finished_at timestamptz null
);
create index runs_user_started_idx on runs (user_id, started_at desc);
create index runs_active_idx on runs (status) where status in ('running', 'waiting');
create index runs_flow_started_idx on runs (flow_id, started_at desc);

create table run_journal (
  id bigserial primary key,
  run_id uuid not null references runs(id) on delete cascade,
  seq int not null,
  at timestamptz not null default now(),
  kind text not null,
  event_type text null,
  node_id text null,
  snapshot jsonb null,
  data jsonb null,
  unique (run_id, seq)
);

create table effects (
  idempotency_key text primary key,
  user_id uuid not null,
  run_id uuid not null,
  node_id text not null,
  kind text not null,
  result jsonb null,
  created_at timestamptz not null default now()
);
create index effects_run_idx on effects (run_id);

create table timers (
  run_id uuid not null references runs(id) on delete cascade,
  key text not null,
  due_at timestamptz not null,
  fired_at timestamptz null,
  primary key (run_id, key)
);
create index timers_due_idx on timers (due_at) where fired_at is null;

create table inbox (
  id uuid primary key,
  user_id uuid not null,
  type text not null,
  payload jsonb not null default '{}',
  dedupe_key text null,
  received_at timestamptz not null default now(),
  processed_at timestamptz null,
  error text null,
  unique (user_id, dedupe_key)
);
create index inbox_pending_idx on inbox (received_at) where processed_at is null;

create table schedule_fires (
  trigger_id uuid not null,
  fire_at timestamptz not null,
  claimed_by text not null,
  claimed_at timestamptz not null default now(),
  primary key (trigger_id, fire_at)
);

-- Agent/user memory (the host's MemoryPort). Not in the first brief's list; the effect ledger needs it.
create table memory_entries (
  user_id uuid not null,
  scope text not null,
  key text not null,
  value jsonb not null,
  expires_at timestamptz null,
  updated_at timestamptz not null default now(),
  primary key (user_id, scope, key)
);
create index memory_entries_expiry_idx on memory_entries (expires_at) where expires_at is not null;

-- FKs between CRM tables are deferred to commit: the ORM's unit of work inserts a thread and its
-- first email (or a seed's contacts and their tasks) in one flush without ordering by FK.
create table contacts (
  id uuid primary key,
  user_id uuid not null references users(id),
  name text not null,
  email text not null,
  company text not null default '',
  title text not null default '',
  phone text not null default '',
  relationship_strength real not null default 0.5 check (relationship_strength >= 0 and relationship_strength <= 1),
  last_interaction_at timestamptz null,
  tags jsonb not null default '[]' check (jsonb_typeof(tags) = 'array'),
  notes text not null default '',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (user_id, email)
);
-- Lookups by address are case-insensitive (findContactByEmail, the host's contactByEmail).
create index contacts_email_ci_idx on contacts (user_id, lower(email));

create table email_threads (
  id uuid primary key,
  user_id uuid not null references users(id),
  subject text not null,
  contact_id uuid null references contacts(id) on delete set null deferrable initially deferred,
  last_message_at timestamptz not null default now()
);
create index email_threads_user_last_idx on email_threads (user_id, last_message_at desc);

create table emails (
  id uuid primary key,
  user_id uuid not null references users(id),
  thread_id uuid not null references email_threads(id) on delete cascade deferrable initially deferred,
  direction text not null check (direction in ('inbound', 'outbound')),
  from_addr text not null,
  to_addrs jsonb not null default '[]',
  subject text not null,
  body text not null default '',
  is_important boolean not null default false,
  is_unread boolean not null default false,
  at timestamptz not null default now(),
  created_at timestamptz not null default now()
);
create index emails_thread_at_idx on emails (thread_id, at);
create index emails_user_at_idx on emails (user_id, at desc);

create table tasks (
  id uuid primary key,
  user_id uuid not null references users(id),
  title text not null,
  description text not null default '',
  due_at timestamptz null,
  priority text not null default 'medium' check (priority in ('low', 'medium', 'high')),
  status text not null default 'open' check (status in ('open', 'completed')),
  contact_id uuid null references contacts(id) on delete set null deferrable initially deferred,
  source_run_id uuid null,
  created_at timestamptz not null default now(),
  completed_at timestamptz null
);
create index tasks_user_status_idx on tasks (user_id, status, created_at desc);

create table follow_ups (
  id uuid primary key,
  user_id uuid not null references users(id),
  contact_id uuid not null references contacts(id) on delete cascade deferrable initially deferred,
  thread_id uuid null references email_threads(id) on delete set null deferrable initially deferred,
  due_at timestamptz not null,
  note text not null default '',
  status text not null default 'pending' check (status in ('pending', 'completed', 'snoozed')),
  snoozed_until timestamptz null,
  created_at timestamptz not null default now(),
  completed_at timestamptz null
);
create index follow_ups_user_due_idx on follow_ups (user_id, due_at) where status <> 'completed';

create table notifications (
  id uuid primary key,
  user_id uuid not null references users(id),
  type text not null,
  title text not null,
  body text not null default '',
  priority text not null default 'normal' check (priority in ('low', 'normal', 'high')),
  actions jsonb not null default '[]' check (jsonb_typeof(actions) = 'array'),
  read_at timestamptz null,
  acted_at timestamptz null,
  acted_action text null,
  dismissed_at timestamptz null,
  snoozed_until timestamptz null,
  source_run_id uuid null,
  created_at timestamptz not null default now()
);
create index notifications_user_created_idx on notifications (user_id, created_at desc);

create table drafts (
  id uuid primary key,
  user_id uuid not null references users(id),
  thread_id uuid null references email_threads(id) on delete set null deferrable initially deferred,
  contact_id uuid null references contacts(id) on delete set null deferrable initially deferred,
  to_addrs jsonb not null default '[]',
  subject text not null default '',
  body text not null default '',
  status text not null default 'draft' check (status in ('draft', 'sent', 'discarded')),
  source_run_id uuid null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index drafts_user_updated_idx on drafts (user_id, updated_at desc);
`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists drafts, notifications, follow_ups, tasks, emails, email_threads, contacts,
      memory_entries, schedule_fires, inbox, timers, effects, run_journal, runs, flow_triggers, flow_versions, flows, users cascade;`);
  }
}
