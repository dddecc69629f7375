import { afterEach, describe, expect, it, vi } from 'vitest';
import { HeaderEventSource, readServerSentEvents, type ServerSentEvent } from './sse';

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

async function collect(chunks: string[]): Promise<ServerSentEvent[]> {
  const events: ServerSentEvent[] = [];
  for await (const event of readServerSentEvents(streamOf(chunks))) events.push(event);
  return events;
}

describe('readServerSentEvents', () => {
  it('reads typed events, multi-line data and ids, skipping comments', async () => {
    const events = await collect([
      ': ping comment\n',
      'event: connected\ndata: {"reconnectAfterInactivityMs":1}\n\n',
      'id: 7\ndata: line one\ndata: line two\n\n',
      'data:no-space\n\n',
    ]);
    expect(events).toEqual([
      { type: 'connected', data: '{"reconnectAfterInactivityMs":1}', id: '' },
      { type: 'message', data: 'line one\nline two', id: '7' },
      { type: 'message', data: 'no-space', id: '7' },
    ]);
  });

  it('joins events split across chunks, including a CRLF split in the middle', async () => {
    const events = await collect(['da', 'ta: {"a":', '1}\r', '\n\r\n', 'event: return\r\ndata: ""\r\n\r\n']);
    expect(events).toEqual([
      { type: 'message', data: '{"a":1}', id: '' },
      { type: 'return', data: '""', id: '' },
    ]);
  });

  it('drops an event the stream cut off before its blank line', async () => {
    expect(await collect(['data: complete\n\n', 'data: cut off\n'])).toEqual([{ type: 'message', data: 'complete', id: '' }]);
  });
});

describe('HeaderEventSource', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('sends the headers, dispatches events, then reports the end of the stream as an error', async () => {
    const fetchMock = vi.fn(async (_url: string, _init?: RequestInit) =>
      new Response(streamOf(['event: ping\ndata: ""\n\n', 'data: {"n":1}\n\n']), {
        headers: { 'content-type': 'text/event-stream' },
      }),
    );
    vi.stubGlobal('fetch', fetchMock);

    const source = new HeaderEventSource('/trpc/monitor.live', { headers: { Authorization: 'Bearer t' } });
    const seen: string[] = [];
    source.addEventListener('open', () => seen.push('open'));
    source.addEventListener('ping', () => seen.push('ping'));
    source.addEventListener('message', (e) => seen.push(`message ${(e as MessageEvent<string>).data}`));
    const ended = new Promise<void>((resolve) => source.addEventListener('error', () => resolve()));
    await ended;

    expect(seen).toEqual(['open', 'ping', 'message {"n":1}']);
    expect(source.readyState).toBe(HeaderEventSource.CLOSED);
    const init = fetchMock.mock.calls[0]?.[1];
    expect(new Headers(init?.headers).get('authorization')).toBe('Bearer t');
  });

  it('fires no error after close()', async () => {
    vi.stubGlobal('fetch', (_url: string, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) =>
        init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))),
      ),
    );
    const source = new HeaderEventSource('/trpc/x');
    const onError = vi.fn();
    source.addEventListener('error', onError);
    source.close();
    await new Promise((r) => setTimeout(r, 10));
    expect(onError).not.toHaveBeenCalled();
    expect(source.readyState).toBe(source.CLOSED);
  });
});
