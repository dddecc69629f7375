import { Migration } from '@mikro-orm/migrations';

/**
 * Runs waiting for an event (`flow.waitForEvent`): one row per waiting node, written by the same
 * statement as the transition that began the wait (so a stored wait is never missed and a lost
 * step registers nothing). An event whose payload field equals the key consumes the row and
 * stores an `event.deliver` command for the run in one statement; the run's owner applies it
 * (waking the run if it is parked) and acknowledges it with the transition it causes.
 */
export class Migration0014RunWaits extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table run_waits (
  run_id uuid not null references runs(id) on delete cascade,
  node_id text not null,
  user_id uuid not null,
  event_type text not null,
  field text not null,
  correlation_key text not null,
  created_at timestamptz not null,
  consumed_at timestamptz null,
  event_id uuid null,
  primary key (run_id, node_id)
);`);
    this.addSql('create index run_waits_match_idx on run_waits (user_id, event_type, correlation_key) where consumed_at is null;');
    // A behavior's activations are commands to its one run, idempotent by activation id.
    this.addSql(`create index run_commands_activation_idx on run_commands (run_id, (payload->>'activationId')) where payload->>'type' = 'behavior.activate';`);
  }

  override async down(): Promise<void> {
    this.addSql('drop index if exists run_commands_activation_idx;');
    this.addSql('drop table if exists run_waits;');
  }
}
