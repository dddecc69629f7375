import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest, switchyardCode } from './host-support';
import { rejection } from './support/test-db';
import { startAgentsServer, type AgentsServer } from './support/agents-support';

/**
 * Issue 9, "page every list with a cursor": `agents.list` returned every agent in one answer and an
 * agent's memory listing stopped at 500 entries with no way to go on. Both page like `flows.list`
 * (`{ cursor?, limit? }` -> `{ items, nextCursor }`), and every cursor they return is accepted back.
 */
describe.each(backendsUnderTest())('issue 9: agents.list and memory entries page with cursors (%s)', (backend) => {
  let s: AgentsServer;
  let agentIds: string[];

  beforeAll(async () => {
    s = await startAgentsServer(backend);
    agentIds = [];
    // Created one after the other, so created_at orders them (ties are broken by id).
    for (let i = 0; i < 5; i++) agentIds.push((await s.api.agents.create.mutate({ name: `Pager ${i}`, skills: [], tools: [] })).id);
    await Promise.all(Array.from({ length: 7 }, (_, i) => s.api.agents.remember.mutate({ id: agentIds[0]!, key: `fact:${String(i).padStart(2, '0')}`, value: { i } })));
    await s.api.agents.remember.mutate({ id: agentIds[0]!, key: 'other', value: 'not a fact' });
  });
  afterAll(async () => {
    await s?.stop();
    await s?.storage.drop();
  });

  it('agents.list: page 2 with the returned cursor continues where page 1 stopped, to the last page', async () => {
    const seen: string[] = [];
    let page = await s.api.agents.list.query({ limit: 2 });
    const cursors: string[] = [];
    while (true) {
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((a) => a.id));
      if (!page.nextCursor) break;
      cursors.push(page.nextCursor);
      page = await s.api.agents.list.query({ limit: 2, cursor: page.nextCursor });
    }
    expect(cursors).toHaveLength(2);
    expect(seen).toEqual(agentIds);
    // Without input: the first 100, oldest first, and no cursor when that is all of them.
    expect(await s.api.agents.list.query()).toMatchObject({ items: agentIds.map((id) => ({ id })), nextCursor: null });
    // Items keep their full shape (state, skills, tools) on every page.
    expect((await s.api.agents.list.query({ limit: 1, cursor: cursors[0]! })).items[0]).toMatchObject({ id: agentIds[2], name: 'Pager 2', state: 'idle', skills: [], tools: [] });
  });

  it('agents.list: a deleted agent drops out of later pages; another user sees none of them and its cursor tells nothing', async () => {
    const first = await s.api.agents.list.query({ limit: 2 });
    await s.api.agents.delete.mutate({ id: agentIds[2]! });
    const second = await s.api.agents.list.query({ limit: 2, cursor: first.nextCursor! });
    expect(second.items.map((a) => a.id)).toEqual([agentIds[3], agentIds[4]]);
    expect(second.nextCursor).toBeNull();
    expect(await s.other.agents.list.query({ limit: 2 })).toEqual({ items: [], nextCursor: null });
    expect(await s.other.agents.list.query({ limit: 2, cursor: first.nextCursor! })).toEqual({ items: [], nextCursor: null });
  });

  it('agents.list and memoryEntries: forged cursors and bad limits are BAD_INPUT, not 500', async () => {
    for (const cursor of ['nope', Buffer.from('["2026-01-01", "x"]').toString('base64url'), Buffer.from('{"a":1}').toString('base64url'), '']) {
      expect(switchyardCode(await rejection(s.api.agents.list.query({ cursor })))).toBe('BAD_INPUT');
      expect(switchyardCode(await rejection(s.api.agents.memoryEntries.query({ id: agentIds[0]!, cursor })))).toBe('BAD_INPUT');
    }
    for (const limit of [0, 201, 1.5]) expect(switchyardCode(await rejection(s.api.agents.list.query({ limit })))).toBe('BAD_INPUT');
  });

  it('memory: the view carries the first page and its cursor; memoryEntries accepts it and pages on in key order', async () => {
    const view = await s.api.agents.memory.query({ id: agentIds[0]!, prefix: 'fact:', limit: 3 });
    expect(view.entries.map((e) => e.key)).toEqual(['fact:00', 'fact:01', 'fact:02']);
    expect(view.entriesNextCursor).toEqual(expect.any(String));
    const keys = view.entries.map((e) => e.key);
    let cursor = view.entriesNextCursor;
    let pages = 0;
    while (cursor) {
      const page = await s.api.agents.memoryEntries.query({ id: agentIds[0]!, prefix: 'fact:', limit: 3, cursor });
      keys.push(...page.items.map((e) => e.key));
      cursor = page.nextCursor;
      pages++;
    }
    expect(pages).toBe(2);
    expect(keys).toEqual(Array.from({ length: 7 }, (_, i) => `fact:${String(i).padStart(2, '0')}`));
    // Without a prefix, the other key is on the last page; entries carry value and expiry.
    const all = await s.api.agents.memoryEntries.query({ id: agentIds[0]!, limit: 7 });
    expect(all.items.map((e) => e.key)).toHaveLength(7);
    const last = await s.api.agents.memoryEntries.query({ id: agentIds[0]!, limit: 7, cursor: all.nextCursor! });
    expect(last).toEqual({ items: [expect.objectContaining({ key: 'other', value: 'not a fact', expiresAt: null })], nextCursor: null });
    // Without a limit, the view keeps its old answer for small memories: everything, no cursor.
    expect(await s.api.agents.memory.query({ id: agentIds[0]! })).toMatchObject({ entriesNextCursor: null });
  });

  it("memoryEntries is scoped to the user: another user's agent is NOT_FOUND, with or without a cursor", async () => {
    const view = await s.api.agents.memory.query({ id: agentIds[0]!, limit: 1 });
    expect(switchyardCode(await rejection(s.other.agents.memoryEntries.query({ id: agentIds[0]! })))).toBe('NOT_FOUND');
    expect(switchyardCode(await rejection(s.other.agents.memoryEntries.query({ id: agentIds[0]!, cursor: view.entriesNextCursor! })))).toBe('NOT_FOUND');
  });
});
