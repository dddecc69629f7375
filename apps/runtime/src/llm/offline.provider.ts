import type { LlmProvider } from './llm';

/**
 * The offline model: answers every call with the deterministic text the caller supplies (each
 * skill knows how to do its job from templates). Same input, same answer, no network.
 */
export function createOfflineProvider(): LlmProvider {
  return {
    model: 'offline',
    offline: true,
    async complete(req) {
      const o = req.offline();
      return { text: o.text, data: o.data, toolCalls: [], usage: null, attempts: 1 };
    },
  };
}
