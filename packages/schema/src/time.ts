/** Pure time helpers shared by the schema (validation) and the compiler (evaluation). */

const UNIT_MS: Record<string, number> = {
  ms: 1, millisecond: 1, milliseconds: 1,
  s: 1000, sec: 1000, secs: 1000, second: 1000, seconds: 1000,
  m: 60_000, min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hr: 3_600_000, hrs: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
  w: 604_800_000, week: 604_800_000, weeks: 604_800_000,
};
export const MAX_DURATION_MS = 366 * 86_400_000;

/**
 * Parses human durations: "1 hour", "2 hours", "90m", "1h 30m", "1 day and 2 hours".
 * Returns null when the text is not a duration or exceeds a year.
 */
export function parseDuration(text: string): number | null {
  const source = text.trim().toLowerCase().replace(/\band\b|,/g, ' ');
  if (!source) return null;
  const re = /(\d+(?:\.\d+)?)\s*([a-z]+)/gy;
  let total = 0;
  let pos = 0;
  for (;;) {
    while (source[pos] === ' ') pos++;
    if (pos >= source.length) break;
    re.lastIndex = pos;
    const m = re.exec(source);
    if (!m) return null;
    const unit = UNIT_MS[m[2]!];
    if (unit === undefined) return null;
    total += Number(m[1]) * unit;
    pos = re.lastIndex;
  }
  return total > 0 && total <= MAX_DURATION_MS ? Math.round(total) : null;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const MACROS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

function cronValue(token: string, min: number, max: number, names?: string[]): number | null {
  if (/^\d+$/.test(token)) {
    const n = Number(token);
    return n >= min && n <= max ? n : null;
  }
  const idx = names?.indexOf(token.toUpperCase()) ?? -1;
  return idx >= 0 ? idx + (names === MONTHS ? 1 : 0) : null;
}

function cronField(field: string, min: number, max: number, names?: string[]): boolean {
  return field.split(',').every((item) => {
    const [range, step, extra] = item.split('/');
    if (extra !== undefined || range === undefined || range === '') return false;
    if (step !== undefined && !(/^\d+$/.test(step) && Number(step) > 0 && Number(step) <= max)) return false;
    if (range === '*' || range === '?') return true;
    const [a, b, more] = range.split('-');
    if (more !== undefined || a === undefined) return false;
    const lo = cronValue(a, min, max, names);
    if (lo === null) return false;
    if (b === undefined) return true;
    const hi = cronValue(b, min, max, names);
    return hi !== null && hi >= lo;
  });
}

/** Validates a 5-field (minute) or 6-field (second-first) cron expression, or a macro like @daily. */
export function validateCron(expr: string): string | null {
  const text = expr.trim();
  if (MACROS.has(text.toLowerCase())) return null;
  const fields = text.split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) return 'A cron expression has 5 fields (minute hour day month weekday)';
  const f = fields.length === 6 ? fields : ['0', ...fields];
  const spec: [number, number, string[]?][] = [[0, 59], [0, 59], [0, 23], [1, 31], [1, 12, MONTHS], [0, 7, DAYS]];
  const names = ['second', 'minute', 'hour', 'day of month', 'month', 'day of week'];
  for (let i = 0; i < 6; i++) {
    const [min, max, nm] = spec[i]!;
    if (!cronField(f[i]!, min, max, nm)) return `Invalid ${names[i]} field "${f[i]}"`;
  }
  return null;
}

/** True when the runtime's Intl knows the IANA zone. */
export function isValidTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return tz.length > 0;
  } catch {
    return false;
  }
}

/**
 * One formatter per timezone: making an `Intl.DateTimeFormat` costs about 20 times what using one
 * does (64 µs against 3 µs), and a business-hours check asks at every run (bench: durable). The
 * zones are IANA's few hundred names; the cache is emptied should it ever hold more.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();
const MAX_FORMATTERS = 1000;
const zonedFormatter = (timeZone: string) => {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', weekday: 'short', hour: '2-digit', minute: '2-digit' });
    if (formatters.size >= MAX_FORMATTERS) formatters.clear();
    formatters.set(timeZone, f);
  }
  return f;
};

/** Local wall-clock parts of an instant in a timezone. */
export function zonedParts(epochMs: number, timeZone: string): { weekday: number; hour: number; minute: number } {
  const parts = zonedFormatter(timeZone).formatToParts(new Date(epochMs));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return { weekday: DAYS.indexOf(get('weekday').toUpperCase()), hour: Number(get('hour')), minute: Number(get('minute')) };
}
