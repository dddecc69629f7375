import { Migration } from '@mikro-orm/migrations';

/**
 * Agents (issue 4): agents per user, their memory (one row per agent and key, so concurrent writes
 * never overwrite each other), append-only interactions, conversations, the LLM call journal,
 * approvals for effects agents propose, and a calendar for the scheduling skills.
 */
export class Migration0002Agents extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
create table agents (
  id uuid primary key,
  user_id uuid not null references users(id),
  name text not null,
  description text not null default '',
  system_prompt text not null default '',
  skills jsonb not null default '[]' check (jsonb_typeof(skills) = 'array'),
  tools jsonb not null default '[]' check (jsonb_typeof(tools) = 'array'),
  personality jsonb not null check (jsonb_typeof(personality) = 'object'),
  active boolean not null default true,
  state text not null default 'idle' check (state in ('idle', 'working', 'waiting_approval', 'error')),
  snapshot jsonb null,
  last_error text null,
  deleted_at timestamptz null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index agents_user_idx on agents (user_id, created_at) where deleted_at is null;

create table agent_memory (
  agent_id uuid not null references agents(id) on delete cascade,
  key text not null,
  value jsonb not null,
  expires_at timestamptz null,
  updated_at timestamptz not null default now(),
  primary key (agent_id, key)
);
create index agent_memory_expiry_idx on agent_memory (expires_at) where expires_at is not null;

create table agent_interactions (
  id bigserial primary key,
  agent_id uuid not null references agents(id) on delete cascade,
  entity_type text not null,
  entity_id text not null,
  data jsonb not null,
  at timestamptz not null default now()
);
create index agent_interactions_entity_idx on agent_interactions (agent_id, entity_type, entity_id, id desc);
create index agent_interactions_recent_idx on agent_interactions (agent_id, id desc);

create table conversations (
  id uuid primary key,
  agent_id uuid not null references agents(id) on delete cascade,
  user_id uuid not null references users(id),
  active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index conversations_agent_idx on conversations (agent_id, updated_at desc) where active;

create table messages (
  id bigserial primary key,
  conversation_id uuid not null references conversations(id) on delete cascade,
  role text not null check (role in ('user', 'assistant')),
  content text not null,
  model text null,
  created_at timestamptz not null default now()
);
create index messages_conversation_idx on messages (conversation_id, id desc);

-- Every model call: what it cost and what it answered. A call with a call_key that succeeded is
-- answered from here on a replay (retried or restored run step) instead of calling the model again.
create table llm_calls (
  id bigserial primary key,
  user_id uuid null,
  agent_id uuid null,
  run_id uuid null,
  call_key text null,
  purpose text not null,
  model text not null,
  prompt_chars int not null,
  prompt_tokens int null,
  completion_tokens int null,
  latency_ms int not null,
  status text not null check (status in ('ok', 'error', 'timeout', 'invalid')),
  attempts int not null default 1,
  result jsonb null,
  error text null,
  at timestamptz not null default now()
);
create index llm_calls_agent_idx on llm_calls (agent_id, id desc);
create index llm_calls_run_idx on llm_calls (run_id) where run_id is not null;
create unique index llm_calls_replay_idx on llm_calls (call_key) where call_key is not null and status = 'ok';

create table agent_approvals (
  id uuid primary key,
  agent_id uuid not null references agents(id) on delete cascade,
  user_id uuid not null,
  run_id uuid null,
  tool text not null,
  args jsonb not null,
  reason text not null,
  status text not null default 'pending' check (status in ('pending', 'approved', 'rejected')),
  created_at timestamptz not null default now(),
  decided_at timestamptz null
);
create index agent_approvals_pending_idx on agent_approvals (agent_id) where status = 'pending';

create table calendar_events (
  id uuid primary key,
  user_id uuid not null references users(id),
  title text not null,
  description text not null default '',
  starts_at timestamptz not null,
  ends_at timestamptz not null check (ends_at > starts_at),
  attendees jsonb not null default '[]' check (jsonb_typeof(attendees) = 'array'),
  source_run_id uuid null,
  created_at timestamptz not null default now()
);
create index calendar_events_user_time_idx on calendar_events (user_id, starts_at);
`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists calendar_events, agent_approvals, llm_calls, messages, conversations, agent_interactions, agent_memory, agents cascade;');
  }
}
