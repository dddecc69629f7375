import { SwitchyardError } from '@switchyard/schema';

/**
 * Keyset cursors for lists ordered by a timestamp then id, newest first (`flows.list`, `runs.list`).
 * The timestamp travels as PostgreSQL's own text (`col::text`), so microseconds survive the round
 * trip; decoding checks both parts, so a forged cursor is BAD_INPUT, never a cast error in SQL.
 */
export function encodeTimeCursor(at: string, id: string): string {
  return Buffer.from(JSON.stringify([at, id])).toString('base64url');
}

const PG_TIMESTAMPTZ = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2}){0,2}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function decodeTimeCursor(cursor: string): { at: string; id: string } {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    v = null;
  }
  if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string' && PG_TIMESTAMPTZ.test(v[0]) && UUID.test(v[1])) {
    return { at: v[0], id: v[1] };
  }
  throw new SwitchyardError('BAD_INPUT', 'Invalid cursor', { issues: [{ path: ['cursor'], message: 'Invalid cursor' }] });
}
