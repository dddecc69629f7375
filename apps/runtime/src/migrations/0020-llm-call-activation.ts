import { Migration } from '@mikro-orm/migrations';

/**
 * A behavior is one run for its whole life; the agents' per-run caps (model calls and tokens)
 * count one activation of it, so each model call records the activation it served (null outside
 * behaviors).
 */
export class Migration0020LlmCallActivation extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table llm_calls add column activation int null;');
    this.addSql('create index llm_calls_run_activation_idx on llm_calls (run_id, activation) where run_id is not null;');
  }

  override async down(): Promise<void> {
    this.addSql('drop index if exists llm_calls_run_activation_idx;');
    this.addSql('alter table llm_calls drop column if exists activation;');
  }
}
