import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { z } from 'zod';

const sizeInKb = (v: string) => Number.parseInt(v, 10) * ({ kB: 1, MB: 1024, GB: 1024 ** 2 }[v.replace(/^[0-9]+/, '')] ?? NaN);

/** Empty strings count as unset: `FOO= cmd` and a missing FOO mean the same to an operator. */
const optional = z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), z.string().trim().optional());
const list = optional.transform((v) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : []));

const EnvSchema = z.object({
  DATABASE_URL: optional.refine((v) => !v || /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// or postgresql:// URL'),
  SWITCHYARD_DATA_DIR: optional.transform((v) => v ?? './.switchyard/data'),
  SWITCHYARD_PGLITE_SHARED_BUFFERS: optional
    .transform((v) => v ?? '32MB')
    .refine((v) => /^[1-9][0-9]{0,5}(kB|MB|GB)$/.test(v) && sizeInKb(v) >= 1024 && sizeInKb(v) <= 2 ** 20, 'must be a size between 1MB and 1GB, such as 32MB (kB, MB or GB)'),
  PORT: optional
    .transform((v) => (v === undefined ? 4310 : Number(v)))
    .refine((n) => Number.isInteger(n) && n >= 0 && n <= 65535, 'must be an integer 0..65535 (0 = any free port)'),
  HOST: optional.transform((v) => v ?? '127.0.0.1'),
  SWITCHYARD_TOKEN: optional.refine((v) => !v || v.length >= 16, 'must be at least 16 characters'),
  SWITCHYARD_USERS: list.pipe(
    z.array(z.string().regex(/^[A-Za-z0-9_.-]{1,64}:.{16,}$/, 'entries must be name:token (token at least 16 characters)')),
  ),
  SWITCHYARD_OUTBOUND_ALLOW: list,
  SWITCHYARD_TEST_HOOKS: optional.refine((v) => !v || v === '0' || v === '1', "must be '0' or '1'"),
  SWITCHYARD_WEBHOOK_SECRET_KEY: optional,
  SWITCHYARD_INSTANCE_ID: optional.refine((v) => !v || /^[A-Za-z0-9_.:-]{1,100}$/.test(v), 'letters, digits and _.:- only'),
  SWITCHYARD_LEASE_MS: optional
    .transform((v) => (v === undefined ? 30_000 : Number(v)))
    .refine((n) => Number.isInteger(n) && n >= 1000 && n <= 600_000, 'must be milliseconds between 1000 and 600000'),
  SWITCHYARD_SWEEP_SECONDS: optional
    .transform((v) => (v === undefined ? 60 : Number(v)))
    .refine((n) => Number.isInteger(n) && n >= 1 && n <= 86_400, 'must be whole seconds between 1 and 86400'),
  SWITCHYARD_PARK_AFTER_MS: optional
    .transform((v) => (v === undefined ? 2000 : v === 'off' ? -1 : Number(v)))
    .refine((n) => n === -1 || (Number.isInteger(n) && n >= 0 && n <= 3_600_000), "must be milliseconds between 0 and 3600000, or 'off'"),
  SWITCHYARD_COHERENCE_PROBE_HOUR: optional
    .transform((v) => (v === undefined || v === 'off' ? null : Number(v)))
    .refine((n) => n === null || (Number.isInteger(n) && n >= 0 && n <= 23), "must be an hour of the day in UTC (0 to 23), or 'off'"),
  OPENAI_API_KEY: optional,
  OPENAI_BASE_URL: optional.refine((v) => !v || URL.canParse(v), 'must be a URL'),
  SWITCHYARD_MODEL: optional,
});

export interface UserSeed {
  name: string;
  token: string;
}

export interface Config {
  databaseUrl: string | undefined;
  dataDir: string;
  /**
   * The embedded PGlite's shared_buffers (SWITCHYARD_PGLITE_SHARED_BUFFERS, default 32MB). PGlite runs
   * PostgreSQL inside the process, so its buffer pool is resident memory of the runtime itself.
   */
  pgliteSharedBuffers: string;
  port: number;
  host: string;
  /** The owner's token; generated when SWITCHYARD_TOKEN is unset. */
  token: string;
  tokenGenerated: boolean;
  /** The owner first, then SWITCHYARD_USERS. */
  users: UserSeed[];
  outboundAllow: string[];
  testHooks: boolean;
  webhookSecretKey: string | undefined;
  /** SWITCHYARD_INSTANCE_ID, default the hostname: the name plan runs record (agents use `runOwnerId`). */
  instanceId: string;
  /**
   * Who owns the runs this process executes. SWITCHYARD_INSTANCE_ID when set (a restart with the
   * same id resumes them at once); otherwise unique per process (`host:pid:random`), so two
   * processes on one host never share an identity.
   */
  runOwnerId: string;
  /** How long a run's ownership lasts without a heartbeat before another process adopts it. */
  leaseMs: number;
  /** How often the scheduler's sweep job deletes expired memory (workflow and agent memory). */
  sweepSeconds: number;
  /**
   * How long a run waiting only on timers or approvals stays in memory before it is parked (no
   * actor; woken from the database when a timer is due or a command arrives). -1: never park.
   */
  parkAfterMs: number;
  /** The daily memory probe's hour (UTC, SWITCHYARD_COHERENCE_PROBE_HOUR); null: off (the default: it asks the model). */
  coherenceProbeHour: number | null;
  openai: { apiKey: string | undefined; baseUrl: string | undefined; model: string | undefined };
}

/** Reads and validates the environment; a bad variable fails with one line per problem, naming it. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const token = e.SWITCHYARD_TOKEN ?? randomBytes(32).toString('base64url');
  const extra = e.SWITCHYARD_USERS.map((entry) => {
    const at = entry.indexOf(':');
    return { name: entry.slice(0, at), token: entry.slice(at + 1) };
  });
  if (extra.some((u) => u.name === 'owner')) throw new Error("Invalid configuration:\n  SWITCHYARD_USERS: 'owner' is reserved for SWITCHYARD_TOKEN");
  return {
    databaseUrl: e.DATABASE_URL,
    dataDir: e.SWITCHYARD_DATA_DIR,
    pgliteSharedBuffers: e.SWITCHYARD_PGLITE_SHARED_BUFFERS,
    port: e.PORT,
    host: e.HOST,
    token,
    tokenGenerated: e.SWITCHYARD_TOKEN === undefined,
    users: [{ name: 'owner', token }, ...extra],
    outboundAllow: e.SWITCHYARD_OUTBOUND_ALLOW,
    testHooks: e.SWITCHYARD_TEST_HOOKS === '1',
    webhookSecretKey: e.SWITCHYARD_WEBHOOK_SECRET_KEY,
    instanceId: e.SWITCHYARD_INSTANCE_ID ?? hostname(),
    runOwnerId: e.SWITCHYARD_INSTANCE_ID ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
    leaseMs: e.SWITCHYARD_LEASE_MS,
    sweepSeconds: e.SWITCHYARD_SWEEP_SECONDS,
    parkAfterMs: e.SWITCHYARD_PARK_AFTER_MS,
    coherenceProbeHour: e.SWITCHYARD_COHERENCE_PROBE_HOUR,
    openai: { apiKey: e.OPENAI_API_KEY, baseUrl: e.OPENAI_BASE_URL, model: e.SWITCHYARD_MODEL },
  };
}
