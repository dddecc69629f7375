import { Migration } from '@mikro-orm/migrations';

/**
 * Plans proposed in chat (issue 11): asking an agent for something that needs several skills
 * answers with a plan the person can open on the canvas or run. The proposal is kept beside the
 * answer that offered it, so the chat shows its card again after a reload. One per question: a
 * chat request re-run after a crash finds its proposal instead of making a second one.
 */
export class Migration0016PlanProposals extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table plan_proposals (
  id uuid primary key,
  user_id uuid not null,
  agent_id uuid not null references agents(id) on delete cascade,
  conversation_id uuid not null references conversations(id) on delete cascade,
  user_message_id bigint not null,
  message_id bigint null references messages(id) on delete cascade,
  task text not null,
  document jsonb not null,
  diagnostics jsonb not null default '[]',
  source text not null check (source in ('model', 'offline')),
  notice text null,
  created_at timestamptz not null,
  unique (conversation_id, user_message_id)
);`);
    this.addSql('create index plan_proposals_agent_idx on plan_proposals (agent_id, user_id, created_at desc);');
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists plan_proposals;');
  }
}
