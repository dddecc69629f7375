/**
 * A minimal EventSource over `fetch`, so subscriptions can send the session token as an
 * `Authorization` header: the browser's EventSource cannot set headers, and the runtime accepts
 * tokens only there (never in URLs, where they would end up in logs). It implements what tRPC's
 * `httpSubscriptionLink` uses: the constructor, `addEventListener`, `close` and `readyState`.
 *
 * Unlike the browser's EventSource it does not reconnect by itself: when the stream ends or
 * fails it closes and fires `error`, and the subscription link decides what happens next.
 */
export interface HeaderEventSourceInit {
  withCredentials?: boolean;
  headers?: Record<string, string>;
}

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;

export class HeaderEventSource extends EventTarget {
  static readonly CONNECTING = CONNECTING;
  static readonly OPEN = OPEN;
  static readonly CLOSED = CLOSED;
  readonly CONNECTING = CONNECTING;
  readonly OPEN = OPEN;
  readonly CLOSED = CLOSED;

  readyState: number = CONNECTING;
  readonly url: string;
  readonly withCredentials: boolean;
  readonly #abort = new AbortController();

  constructor(url: string, init: HeaderEventSourceInit = {}) {
    super();
    this.url = url;
    this.withCredentials = init.withCredentials ?? false;
    // Listeners are attached right after construction; the first event comes after a network round trip.
    void this.#run(init.headers ?? {});
  }

  close(): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    this.#abort.abort();
  }

  async #run(headers: Record<string, string>): Promise<void> {
    try {
      const response = await fetch(this.url, {
        headers: { Accept: 'text/event-stream', ...headers },
        credentials: this.withCredentials ? 'include' : 'same-origin',
        cache: 'no-store',
        signal: this.#abort.signal,
      });
      if (!response.ok || !response.body) throw new Error(`event stream answered HTTP ${response.status}`);
      if (this.readyState === CLOSED) return;
      this.readyState = OPEN;
      this.dispatchEvent(new Event('open'));
      for await (const event of readServerSentEvents(response.body)) {
        if (this.readyState !== OPEN) return;
        this.dispatchEvent(new MessageEvent(event.type, { data: event.data, lastEventId: event.id }));
      }
    } catch {
      // Aborted by close(), refused, or cut off: all end the same way below.
    }
    if (this.readyState !== CLOSED) {
      this.readyState = CLOSED;
      this.dispatchEvent(new Event('error'));
    }
  }
}

export interface ServerSentEvent {
  type: string;
  data: string;
  id: string;
}

/** Parses a `text/event-stream` body as the HTML standard describes (fields, comments, multi-line data). */
export async function* readServerSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let type = '';
  let data: string[] = [];
  let lastId = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      // A trailing "\r" may be the first half of "\r\n": keep it until the next chunk.
      const lines = buffer.split(/\r\n|\r(?!$)|\n/);
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        if (line === '') {
          if (data.length > 0) yield { type: type || 'message', data: data.join('\n'), id: lastId };
          type = '';
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        let value = colon === -1 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        switch (field) {
          case 'event':
            type = value;
            break;
          case 'data':
            data.push(value);
            break;
          case 'id':
            if (!value.includes('\0')) lastId = value;
            break;
          default:
            // `retry` and unknown fields: reconnection is left to the caller.
            break;
        }
      }
    }
  } finally {
    reader.releaseLock();
  }
}
