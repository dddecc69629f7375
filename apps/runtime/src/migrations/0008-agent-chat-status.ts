import { Migration } from '@mikro-orm/migrations';

/**
 * A chat question the model never answered is marked `failed` (shown with a retry, never fed to
 * the model again as history); a failed question asked again is marked `retried` and hidden.
 */
export class Migration0008AgentChatStatus extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table messages add column status text not null default 'ok' check (status in ('ok', 'failed', 'retried'));`);
  }

  override async down(): Promise<void> {
    this.addSql('alter table messages drop column if exists status;');
  }
}
