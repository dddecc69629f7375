import OpenAI from 'openai';
import type { ChatCompletionCreateParamsNonStreaming, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { z } from 'zod';
import type { ToolCall } from '@switchyard/actors';
import { LlmCallError, LlmRateLimitedError, retryAfterMs, type LlmProvider, type ProviderAnswer } from './llm';

export interface OpenAiProviderOptions {
  apiKey: string | undefined;
  baseUrl: string | undefined;
  model: string | undefined;
  /** Per call (each attempt), connection included. */
  timeoutMs: number;
}

const parseJson = (text: string): unknown => {
  const trimmed = text.trim().replace(/^```(?:json)?\s*|\s*```$/g, '');
  try {
    return JSON.parse(trimmed);
  } catch {
    return undefined;
  }
};

/**
 * Any OpenAI-compatible server through the official SDK: chat completions, JSON-schema structured
 * outputs validated by zod with one repair retry, function tools, a per-call timeout and no SDK
 * retries (the run's retry policy decides, and the journal sees every attempt).
 */
export function createOpenAiProvider(opts: OpenAiProviderOptions): LlmProvider {
  const model = opts.model ?? 'gpt-4o-mini';
  const client = new OpenAI({ apiKey: opts.apiKey ?? 'not-needed', ...(opts.baseUrl ? { baseURL: opts.baseUrl } : {}), maxRetries: 0, timeout: opts.timeoutMs });

  async function call(body: ChatCompletionCreateParamsNonStreaming, signal?: AbortSignal) {
    try {
      return await client.chat.completions.create(body, { timeout: opts.timeoutMs, maxRetries: 0, ...(signal ? { signal } : {}) });
    } catch (e) {
      if (e instanceof OpenAI.APIConnectionTimeoutError) throw new LlmCallError('timeout', `The model did not answer within ${opts.timeoutMs} ms`, e);
      if (e instanceof OpenAI.APIError && e.status === 429) {
        const wait = retryAfterMs(e.headers);
        throw new LlmRateLimitedError(`The model server is rate limiting${wait === null ? '' : ` (retry after ${Math.ceil(wait / 1000)} s)`}: ${e.message}`, wait, e);
      }
      if (e instanceof OpenAI.APIError) throw new LlmCallError('error', `The model server answered ${e.status ?? 'with an error'}: ${e.message}`, e);
      throw new LlmCallError('error', 'The model server could not be reached', e);
    }
  }

  return {
    model,
    offline: false,
    async complete(req, signal): Promise<ProviderAnswer> {
      const messages: ChatCompletionMessageParam[] = [{ role: 'system', content: req.system }, ...req.messages];
      const base: Omit<ChatCompletionCreateParamsNonStreaming, 'messages'> = {
        model,
        ...(req.tools?.length ? { tools: req.tools.map((t) => ({ type: 'function' as const, function: { name: t.name, description: t.description, parameters: t.parameters } })) } : {}),
        ...(req.schema ? { response_format: { type: 'json_schema' as const, json_schema: { name: req.schema.name, schema: z.toJSONSchema(req.schema.zod) as Record<string, unknown>, strict: false } } } : {}),
      };
      let usage = { prompt: 0, completion: 0 };
      for (let attempt = 1; ; attempt++) {
        const res = await call({ ...base, messages }, signal);
        usage = { prompt: usage.prompt + (res.usage?.prompt_tokens ?? 0), completion: usage.completion + (res.usage?.completion_tokens ?? 0) };
        const msg = res.choices[0]?.message;
        const text = msg?.content ?? '';
        const toolCalls: ToolCall[] = (msg?.tool_calls ?? []).flatMap((c) =>
          c.type === 'function' ? [{ id: c.id, name: c.function.name, arguments: parseJson(c.function.arguments) ?? c.function.arguments }] : []);
        if (!req.schema || toolCalls.length) return { text, data: undefined, toolCalls, usage, attempts: attempt };
        const parsed = req.schema.zod.safeParse(parseJson(text));
        if (parsed.success) return { text, data: parsed.data, toolCalls, usage, attempts: attempt };
        if (attempt >= 2) throw new LlmCallError('invalid', `The model's answer did not match ${req.schema.name} after a repair attempt`);
        // One repair turn: show the model its answer and what was wrong with it.
        const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
        messages.push({ role: 'assistant', content: text }, { role: 'user', content: `That answer does not match the JSON schema "${req.schema.name}" (${issues}). Reply again with only valid JSON.` });
      }
    },
  };
}
