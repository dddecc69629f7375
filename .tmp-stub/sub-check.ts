import { initTRPC, TRPCError } from '@trpc/server';
import { createHTTPServer } from '@trpc/server/adapters/standalone';
import { createTRPCClient, httpSubscriptionLink, splitLink, httpBatchLink } from '@trpc/client';
import { HeaderEventSource } from '../apps/editor/src/sse';

const t = initTRPC.context<{ auth: string | undefined }>().create();
const authed = t.procedure.use(({ ctx, next }) => { if (ctx.auth !== 'Bearer secret') throw new TRPCError({ code: 'UNAUTHORIZED' }); return next(); });
const router = t.router({
  live: authed.subscription(async function* () { for (let i = 0; i < 3; i++) { yield { i }; await new Promise((r) => setTimeout(r, 50)); } }),
});
const server = createHTTPServer({ router, basePath: '/trpc/', createContext: ({ req }) => ({ auth: req.headers.authorization }) });
server.listen(4398);
function client(token: string) {
  return createTRPCClient<typeof router>({ links: [splitLink({ condition: (op) => op.type === 'subscription',
    true: httpSubscriptionLink({ url: 'http://127.0.0.1:4398/trpc', EventSource: HeaderEventSource, eventSourceOptions: () => ({ headers: { Authorization: `Bearer ${token}` } }) }),
    false: httpBatchLink({ url: 'http://127.0.0.1:4398/trpc' }) })] });
}
async function run(token: string) {
  return new Promise<string>((resolve) => {
    const got: unknown[] = [];
    const sub = client(token).live.subscribe(undefined, {
      onData: (d) => got.push(d),
      onError: (e) => { sub.unsubscribe(); resolve(`error ${e.data?.code ?? e.message} after ${JSON.stringify(got)}`); },
      onComplete: () => resolve(`complete ${JSON.stringify(got)}`),
      onConnectionStateChange: (s) => { if (s.state === 'connecting' && s.error) { sub.unsubscribe(); resolve(`conn error ${s.error.message} after ${JSON.stringify(got)}`); } },
    });
    setTimeout(() => { sub.unsubscribe(); resolve(`timeout ${JSON.stringify(got)}`); }, 3000);
  });
}
console.log('good token:', await run('secret'));
console.log('bad token:', await run('nope'));
server.close();
process.exit(0);
