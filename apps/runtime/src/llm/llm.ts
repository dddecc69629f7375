import { performance } from 'node:perf_hooks';
import type { EntityManager } from '@mikro-orm/postgresql';
import { SwitchyardError } from '@switchyard/schema';
import type { LlmRequest, LlmResult, ToolCall } from '@switchyard/actors';
import { sql, sqlOne } from '../host/db';

/** What a provider answers for one call (before the journal). */
export interface ProviderAnswer {
  text: string;
  data: unknown;
  toolCalls: ToolCall[];
  usage: { prompt: number; completion: number } | null;
  /** 2 when the structured output needed the repair retry. */
  attempts: number;
}

export interface LlmProvider {
  readonly model: string;
  /** True for the deterministic offline provider (the UI says "offline model"). */
  readonly offline: boolean;
  complete(req: LlmRequest<unknown>, signal?: AbortSignal): Promise<ProviderAnswer>;
}

/** Why a provider call failed; the journal stores it as the call's status. */
export class LlmCallError extends SwitchyardError {
  constructor(readonly status: 'error' | 'timeout' | 'invalid', message: string, cause?: unknown) {
    super('OUTBOUND_FAILED', message, { cause, nonRetryable: status === 'invalid' });
  }
}

/**
 * The model server refused for now (HTTP 429). Retryable: a workflow step waits at least
 * `retryAfterMs` (from the server's `retry-after`) before its next attempt.
 */
export class LlmRateLimitedError extends SwitchyardError {
  readonly status = 'error' as const;
  constructor(message: string, readonly retryAfterMs: number | null, cause?: unknown) {
    super('RATE_LIMITED', message, { cause, nonRetryable: false });
  }
}

/** `retry-after` (seconds or an HTTP date) or `retry-after-ms`, in ms; null when absent or unreadable. */
export function retryAfterMs(headers: { get(name: string): string | null } | undefined, now = Date.now()): number | null {
  const ms = Number(headers?.get('retry-after-ms'));
  if (headers?.get('retry-after-ms') && Number.isFinite(ms) && ms >= 0) return Math.round(ms);
  const v = headers?.get('retry-after')?.trim();
  if (!v) return null;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - now) : null;
}

export interface LlmCallMeta {
  userId: string;
  agentId?: string | null;
  runId?: string | null;
  /** Stable across retries of a run step: a successful call with this key is replayed from the journal. */
  callKey?: string | null;
  /** The behavior activation the call served (per-run caps count one activation). */
  activation?: number | null;
}

export type JournaledResult<T> = LlmResult<T> & { usage: { prompt: number; completion: number } | null; replayed: boolean };

const promptChars = (req: LlmRequest<unknown>) => req.system.length + req.messages.reduce((n, m) => n + m.content.length, 0);

/**
 * The LLM port: one provider (OpenAI-compatible or offline) plus the `llm_calls` journal. Every
 * call is journaled (prompt size, tokens, latency, status, result); keyed calls that succeeded are
 * answered from the journal when a run step is replayed, so a replay never calls the model again.
 */
export function createLlm(deps: { em: () => EntityManager; provider: LlmProvider }) {
  const { provider } = deps;
  async function journal(meta: LlmCallMeta, req: LlmRequest<unknown>, row: { status: string; latency: number; answer?: ProviderAnswer; error?: string }) {
    const a = row.answer;
    const result = a ? { text: a.text, data: a.data ?? null, toolCalls: a.toolCalls } : null;
    await sql(deps.em(),
      `insert into llm_calls (user_id, agent_id, run_id, call_key, purpose, model, prompt_chars, prompt_tokens, completion_tokens, latency_ms, status, attempts, result, error, activation)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       on conflict (call_key) where call_key is not null and status = 'ok' do nothing`,
      [meta.userId, meta.agentId ?? null, meta.runId ?? null, row.status === 'ok' ? meta.callKey ?? null : null, req.purpose, provider.model,
        promptChars(req), a?.usage?.prompt ?? null, a?.usage?.completion ?? null, Math.round(row.latency), row.status, a?.attempts ?? 1, result, row.error ?? null,
        meta.activation ?? null]);
  }

  return {
    get model() {
      return provider.model;
    },
    get offline() {
      return provider.offline;
    },
    async complete<T>(meta: LlmCallMeta, req: LlmRequest<T>, signal?: AbortSignal): Promise<JournaledResult<T>> {
      if (meta.callKey) {
        const hit = await sqlOne<{ result: { text: string; data: unknown; toolCalls: ToolCall[] }; model: string; prompt_tokens: number | null; completion_tokens: number | null }>(
          deps.em(), `select result, model, prompt_tokens, completion_tokens from llm_calls where call_key = ? and status = 'ok'`, [meta.callKey]);
        if (hit) {
          const data = req.schema && hit.result.data !== null ? req.schema.zod.safeParse(hit.result.data) : null;
          return {
            text: hit.result.text, data: data?.success ? data.data : undefined, toolCalls: hit.result.toolCalls, model: hit.model, replayed: true,
            usage: hit.prompt_tokens === null ? null : { prompt: hit.prompt_tokens, completion: hit.completion_tokens ?? 0 },
          };
        }
      }
      const started = performance.now();
      try {
        const answer = await provider.complete(req as LlmRequest<unknown>, signal);
        await journal(meta, req as LlmRequest<unknown>, { status: 'ok', latency: performance.now() - started, answer });
        return { text: answer.text, data: answer.data as T | undefined, toolCalls: answer.toolCalls, model: provider.model, usage: answer.usage, replayed: false };
      } catch (e) {
        const status = e instanceof LlmCallError || e instanceof LlmRateLimitedError ? e.status : 'error';
        await journal(meta, req as LlmRequest<unknown>, { status, latency: performance.now() - started, error: e instanceof Error ? e.message : String(e) });
        if (e instanceof SwitchyardError) throw e;
        throw new LlmCallError('error', 'The model call failed', e);
      }
    },
  };
}
export type Llm = ReturnType<typeof createLlm>;
