import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A local webhook endpoint that answers 200 and records each delivery's Idempotency-Key. */
export async function startWebhookReceiver() {
  const keys: string[] = [];
  const server = createServer((req, res) => {
    keys.push(String(req.headers['idempotency-key']));
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    keys,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
