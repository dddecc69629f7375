import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import { fastifyTRPCPlugin, type FastifyTRPCPluginOptions } from '@trpc/server/adapters/fastify';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { JSON_LIMITS } from '@switchyard/schema';
import { upsertUsers } from './auth/auth';
import type { Config } from './config';
import { createContext, type BaseServices, type ServiceOverrides, type Services } from './context';
import { CrmStore } from './crm/crm.service';
import { seedDemoDataIfEmpty } from './crm/demo-seed';
import { openDatabase } from './db/database';
import { errorResponse, isUnexpected } from './errors';
import { createOutbound } from './outbound/outbound';
import { registerMetricsRoute } from './monitor/http';
import { appRouter, type AppRouter } from './router';
import { clientErrorHandler, sendTransportError } from './transport-errors';

export const EDITOR_DIST = fileURLToPath(new URL('../../editor/dist/', import.meta.url));

/** Procedures per tRPC batch request. */
export const MAX_BATCH_SIZE = 50;

export type ServerPlugin = (app: FastifyInstance, services: Services) => Promise<void>;

export interface ServerOverrides {
  /** Registered after tRPC and /health, before the editor's SPA fallback. */
  plugins?: ServerPlugin[];
  /** Adds or replaces services (host, scheduler, a test clock...); gets the base services, returns the extra ones. */
  services?: (base: Services) => Promise<ServiceOverrides>;
  logger?: FastifyServerOptions['logger'];
  /** Where the built editor lives; defaults to apps/editor/dist. */
  editorDist?: string;
  /** Seed demo CRM data into an empty embedded database (default true; never on PostgreSQL). */
  seedDemo?: boolean;
}

export interface SwitchyardServer {
  app: FastifyInstance;
  services: Services;
  /** The base URL once started ('' before). */
  readonly url: string;
  start(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Builds the runtime: database (migrated), users from the config, services, tRPC at /trpc,
 * GET /health and the editor. Nothing listens until `start()`.
 */
export async function createServer(config: Config, overrides: ServerOverrides = {}): Promise<SwitchyardServer> {
  const app = Fastify({
    logger: overrides.logger ?? { level: process.env.LOG_LEVEL ?? 'info' },
    logController: new LogController({ disableRequestLogging: true }),
    // Batched tRPC GETs put every procedure path into one URL segment.
    routerOptions: { maxParamLength: 5000 },
    bodyLimit: JSON_LIMITS.maxBytes,
    // Transport errors (413, 415, 431, malformed JSON or HTTP) in the documented error shape.
    clientErrorHandler,
    frameworkErrors: (error, _req, reply) => void sendTransportError(error, reply),
  });
  app.setErrorHandler((error, _req, reply) => sendTransportError(error as Parameters<typeof sendTransportError>[0], reply));
  const db = await openDatabase(config);
  let url = '';
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= (async () => {
    await app.close();
    await db.close();
  })());

  try {
    const users = await upsertUsers(db.orm.em.fork(), config.users);
    const base: BaseServices = {
      config, db, log: app.log,
      clock: { now: () => Date.now() },
      // Reads the clock through `services`, so a clock provided by `overrides.services` is the one used.
      crm: new CrmStore({ now: () => services.clock.now() }),
      outbound: createOutbound({ allow: config.outboundAllow }),
    };
    const services: Services = base;
    Object.assign(services, await overrides.services?.(services));

    const owner = users.find((u) => u.name === 'owner');
    if (db.kind === 'pglite' && owner && (overrides.seedDemo ?? true)) {
      if (await seedDemoDataIfEmpty(db.orm.em.fork(), owner.id, { now: services.clock.now() })) app.log.info('Seeded demo CRM data');
    }

    await app.register(fastifyTRPCPlugin, {
      prefix: '/trpc',
      trpcOptions: {
        router: appRouter,
        // A batch is one HTTP request; more procedures than this is BAD_INPUT.
        maxBatchSize: MAX_BATCH_SIZE,
        createContext: ({ req }) => createContext(services, req),
        onError: ({ error, path }) => {
          if (isUnexpected(error)) app.log.error({ err: error.cause ?? error, path }, 'tRPC procedure failed');
        },
      },
    } satisfies FastifyTRPCPluginOptions<AppRouter>);

    app.get('/health', async () => ({ ok: true }));
    registerMetricsRoute(app, services);

    for (const plugin of overrides.plugins ?? []) await plugin(app, services);

    await registerEditor(app, overrides.editorDist ?? EDITOR_DIST);

    return {
      app, services,
      get url() {
        return url;
      },
      async start() {
        await app.listen({ port: config.port, host: config.host });
        const { port } = app.server.address() as AddressInfo;
        url = `http://${publicHost(config.host)}:${port}`;
        return url;
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** A wildcard bind address is not something to put in a browser's address bar. */
function publicHost(host: string) {
  if (host === '0.0.0.0' || host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Switchyard</title>
<body style="font-family:system-ui;max-width:40rem;margin:4rem auto">
<h1>Switchyard runtime is running</h1>
<p>The editor has not been built. Run <code>npm run build -w @switchyard/editor</code> and reload, or use <code>npm start</code>.</p>`;

/** Serves the built editor with an SPA fallback; API paths keep their JSON 404s. */
async function registerEditor(app: FastifyInstance, dist: string) {
  const built = existsSync(`${dist}/index.html`);
  if (built) await app.register(fastifyStatic, { root: dist, prefix: '/', wildcard: true, index: ['index.html'] });
  else app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(NOT_BUILT));

  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    const api = path === '/health' || path.startsWith('/trpc') || path.startsWith('/hooks') || path.startsWith('/__test');
    if (built && req.method === 'GET' && !api && (req.headers.accept ?? '').includes('text/html')) return reply.sendFile('index.html');
    const { status, body } = errorResponse('NOT_FOUND', `No route for ${req.method} ${path}`);
    return reply.code(status).send(body);
  });
}
