import { Migration } from '@mikro-orm/migrations';

/**
 * Decisions and cancellations sent through a process that does not own the run: stored here and
 * applied by the owner (or by whoever adopts the run), each exactly once.
 */
export class Migration0005RunCommands extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
create table run_commands (
  id bigserial primary key,
  run_id uuid not null references runs(id) on delete cascade,
  payload jsonb not null,
  created_at timestamptz not null default now(),
  applied_at timestamptz null
);
create index run_commands_pending_idx on run_commands (run_id, id) where applied_at is null;
`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists run_commands;');
  }
}
