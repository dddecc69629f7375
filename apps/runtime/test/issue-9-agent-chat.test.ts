import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest, switchyardCode } from './host-support';
import { startAgentsServer, type AgentsServer } from './support/agents-support';
import { startObeyingModel } from './support/obeying-openai';
import { rejection } from './support/test-db';

/**
 * Issue 9, Agents: a failed chat turn left a stored question that was never answered and was sent
 * to the model again as history (two user messages in a row); the brevity adjustment deleted
 * what the model wrote ("Sure. The depots are in Rotterdam, Hamburg and Antwerp" -> "Sure.").
 */
describe.each(backendsUnderTest())('agent chat turns (%s)', (backend) => {
  let model: Awaited<ReturnType<typeof startObeyingModel>>;
  let s: AgentsServer;

  beforeAll(async () => {
    model = await startObeyingModel();
    s = await startAgentsServer(backend, { env: { OPENAI_BASE_URL: model.baseUrl, OPENAI_API_KEY: 'sk-test', SWITCHYARD_MODEL: 'obeying' } });
  });
  afterAll(async () => {
    await s?.stop();
    await s?.storage.drop();
    await model?.stop();
  });

  it('brevity never deletes what the model wrote', async () => {
    const agent = await s.api.agents.create.mutate({ name: 'Brief', personality: { brevity: 0.95 } });
    const unpunctuated = 'Sure. The depots are in Rotterdam, Hamburg and Antwerp';
    expect((await s.api.agents.chat.mutate({ id: agent.id, message: `ECHO ${unpunctuated}` })).reply).toBe(unpunctuated);
    const long = 'One. Two. Three. Four. Five.\n\nSix. Seven. Eight. Nine.\n\nKind regards,\nSam';
    expect((await s.api.agents.chat.mutate({ id: agent.id, message: `ECHO ${long}` })).reply).toBe(long);
  });

  it('a failed turn is marked failed, is not replayed as history, and can be retried', async () => {
    const agent = await s.api.agents.create.mutate({ name: 'Chatty' });
    model.failNext({ status: 500 });
    expect(switchyardCode(await rejection(s.api.agents.chat.mutate({ id: agent.id, message: 'first question' })))).toBe('OUTBOUND_FAILED');
    const failed = (await s.api.agents.memory.query({ id: agent.id })).conversation!.messages;
    expect(failed.map((m) => [m.role, m.content, m.status])).toEqual([['user', 'first question', 'failed']]);

    await s.api.agents.chat.mutate({ id: agent.id, message: 'second question' });
    // The model sees one user message, not the unanswered one before it.
    expect(model.requests.at(-1)!.messages.filter((m) => m.role !== 'system').map((m) => [m.role, m.content])).toEqual([['user', 'second question']]);

    // Retried: the failed question is hidden, asked again after the answer, and answered.
    const failedId = failed[0]!.id;
    expect(switchyardCode(await rejection(s.other.agents.chat.mutate({ id: agent.id, message: 'first question', retryOf: failedId })))).toBe('NOT_FOUND');
    const retried = await s.api.agents.chat.mutate({ id: agent.id, message: 'first question', retryOf: failedId });
    expect(retried.messages.map((m) => [m.role, m.content, m.status])).toEqual([
      ['user', 'second question', 'ok'], ['assistant', 'OBEYING REPLY', 'ok'], ['user', 'first question', 'ok'], ['assistant', 'OBEYING REPLY', 'ok'],
    ]);
    expect(model.requests.at(-1)!.messages.filter((m) => m.role !== 'system').map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    // Only a failed question can be retried, once.
    expect(switchyardCode(await rejection(s.api.agents.chat.mutate({ id: agent.id, message: 'again', retryOf: failedId })))).toBe('NOT_FOUND');
  });
});
