/** Reads a tRPC SSE subscription with plain fetch, the way any HTTP client can. */
export async function* sse(url: string, token: string | null, signal?: AbortSignal) {
  const res = await fetch(url, { ...(signal ? { signal } : {}), headers: { accept: 'text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) } });
  if (!res.ok || !res.body) throw new Error(`SSE failed: ${res.status}`);
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    let at: number;
    while ((at = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
      if (data) yield { event, data: JSON.parse(data) as unknown };
    }
  }
}
