import pg from 'pg';

/**
 * Follows the transitions other processes store: every run write NOTIFYs `switchyard_runs` with
 * the run id (run-store.ts), and this dedicated connection LISTENs, so a watcher connected to any
 * process sees every change. Reconnects with backoff when the connection drops.
 */
export function createRunListener(url: string, onRun: (runId: string) => void, log?: { error(o: unknown, m?: string): void }) {
  return createPgListener(url, { switchyard_runs: onRun }, log);
}

/**
 * A dedicated connection that LISTENs on `channels` and hands each notification's payload to its
 * channel's handler (the agents use `switchyard_agents`). Reconnects with backoff when it drops.
 */
export function createPgListener(url: string, channels: Record<string, (payload: string) => void>, log?: { error(o: unknown, m?: string): void }) {
  let client: pg.Client | null = null;
  let stopped = false;
  let retry: NodeJS.Timeout | null = null;
  let attempt = 0;

  async function connect() {
    const c = new pg.Client({ connectionString: url });
    c.on('notification', (msg) => {
      const handler = channels[msg.channel];
      if (handler && msg.payload) handler(msg.payload);
    });
    c.on('error', (err) => {
      log?.error({ err, channels: Object.keys(channels) }, 'listener connection failed; reconnecting');
      void c.end().catch(() => undefined);
      if (client === c) client = null;
      schedule();
    });
    await c.connect();
    for (const channel of Object.keys(channels)) await c.query(`listen ${channel}`);
    client = c;
    attempt = 0;
  }

  function schedule() {
    if (stopped || retry) return;
    const delay = Math.min(30_000, 250 * 2 ** attempt++);
    retry = setTimeout(() => {
      retry = null;
      connect().catch((err: unknown) => {
        log?.error({ err, channels: Object.keys(channels) }, 'listener could not connect; retrying');
        schedule();
      });
    }, delay);
    retry.unref?.();
  }

  return {
    async start() {
      await connect().catch((err: unknown) => {
        log?.error({ err, channels: Object.keys(channels) }, 'listener could not connect; retrying');
        schedule();
      });
    },
    async stop() {
      stopped = true;
      if (retry) clearTimeout(retry);
      const c = client;
      client = null;
      await c?.end().catch(() => undefined);
    },
  };
}
