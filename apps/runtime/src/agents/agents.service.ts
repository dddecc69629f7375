import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { createBuiltinSkillRegistry, type AgentSkillOutcome, type AgentsPort, type Clock, type EffectMeta, type SkillResult } from '@switchyard/actors';
import { SwitchyardError, type AgentCreate, type AgentUpdate, type FeedbackType, type Personality } from '@switchyard/schema';
import { sql, sqlOne } from '../host/db';
import { createEffects } from '../host/effects';
import { createLlm, type LlmProvider } from '../llm/llm';
import type { Outbound } from '../outbound/outbound';
import { startAgentActor, stateOf, type AgentActor } from './agent.actor';
import { createAgentStore, type AgentRecord } from './agent.store';
import { createDispatch, DEFAULT_CAPS, writeCalendarEvent, type AgentCaps, type CalendarEventInput, type DispatchReport } from './dispatcher';
import { createAgentMemory } from './memory';
import { adjustResponse, personalityPrompt } from './personality';
import { createHttpWebSearch, createOfflineSocial, createOfflineWebSearch } from './sources';

export interface AgentsServiceDeps {
  em: () => EntityManager;
  /** Read on every use, so the runtime clock (settable in tests) is the one used. */
  clock: () => Clock;
  outbound: Outbound;
  provider: LlmProvider;
  caps?: Partial<AgentCaps>;
  /** A JSON web-search endpoint reached through the outbound guard; unset = offline search over CRM data. */
  webSearchUrl?: string;
  sweepMs?: number;
  log?: { error(o: unknown, m?: string): void };
}

export type SkillRunResult = AgentSkillOutcome & { toolCalls: DispatchReport['toolCalls']; untrusted: string[] };

interface Pending {
  run: () => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/**
 * Agents in the runtime: their store, memory, personality, LLM, skill dispatch and one XState
 * actor per agent whose mailbox runs requests (skill runs, chat) one at a time.
 */
export function createAgentsService(deps: AgentsServiceDeps) {
  const registry = createBuiltinSkillRegistry();
  const now = () => deps.clock().now();
  const nowIso = () => new Date(now()).toISOString();
  const store = createAgentStore({ em: deps.em, now: nowIso, knownSkill: (id) => registry.get(id) !== undefined });
  const memory = createAgentMemory({ em: deps.em, clock: { now } });
  const llm = createLlm({ em: deps.em, provider: deps.provider });
  // The host's effect ledger over the same tables: drafts, emails, follow-ups stay exactly-once.
  const ledger = createEffects({
    em: deps.em, clock: { now, set: () => undefined, onChange: () => () => undefined },
    outbound: { request: (r) => deps.outbound.request(r) },
  });
  const caps: AgentCaps = { ...DEFAULT_CAPS, ...deps.caps };
  const dispatchDeps = {
    em: deps.em, now, llm, memory, crm: ledger.crm, caps,
    web: deps.webSearchUrl ? createHttpWebSearch(deps.outbound, deps.webSearchUrl) : createOfflineWebSearch(deps.em),
    social: createOfflineSocial(),
  };

  const actors = new Map<string, AgentActor>();
  const requests = new Map<string, Pending>();
  const persisting = new Map<string, Promise<unknown>>();
  let sweeper: ReturnType<typeof setInterval> | undefined;
  let stopped = false;

  const pendingApprovals = async (agentId: string) =>
    Number((await sqlOne<{ n: string }>(deps.em(), `select count(*) as n from agent_approvals where agent_id = ? and status = 'pending'`, [agentId]))?.n ?? 0);

  function spawn(agent: Pick<AgentRecord, 'id' | 'state' | 'lastError'>, approvals: number) {
    const actor = startAgentActor({ agentId: agent.id, pendingApprovals: approvals, lastError: agent.state === 'error' ? agent.lastError : null }, async (requestId) => {
      const r = requests.get(requestId);
      requests.delete(requestId);
      if (!r) return { pendingApprovals: await pendingApprovals(agent.id) };
      try {
        r.resolve(await r.run());
      } catch (e) {
        r.reject(e);
        throw e;
      }
      return { pendingApprovals: await pendingApprovals(agent.id) };
    });
    // Persist the state whenever it changes, in order, so the API and a restart see it.
    let last = '';
    actor.subscribe((snap) => {
      const state = stateOf(actor);
      const key = `${state}|${snap.context.lastError ?? ''}`;
      if (key === last) return;
      last = key;
      const summary = { state, pendingApprovals: snap.context.pendingApprovals, processed: snap.context.processed, queued: snap.context.queue.length };
      const chain = (persisting.get(agent.id) ?? Promise.resolve())
        .then(() => store.setState(agent.id, state, snap.context.lastError, summary))
        .catch((e: unknown) => deps.log?.error({ err: e, agentId: agent.id }, 'failed to persist agent state'));
      persisting.set(agent.id, chain);
    });
    actors.set(agent.id, actor);
    return actor;
  }

  async function actorOf(agent: AgentRecord) {
    return actors.get(agent.id) ?? spawn(agent, await pendingApprovals(agent.id));
  }

  /** Puts a request into the agent's mailbox; resolves when the agent has processed it. */
  async function enqueue<T>(agent: AgentRecord, run: () => Promise<T>): Promise<T> {
    if (stopped) throw new SwitchyardError('INTERNAL', 'The runtime is stopping');
    const actor = await actorOf(agent);
    return new Promise<T>((resolve, reject) => {
      const requestId = randomUUID();
      requests.set(requestId, { run, resolve: resolve as (v: unknown) => void, reject });
      actor.send({ type: 'enqueue', requestId });
    });
  }

  async function runSkill(userId: string, agentId: string, skillId: string, params: unknown, opts: { meta?: EffectMeta; grantEffects?: boolean; trigger?: unknown } = {}): Promise<SkillRunResult> {
    const agent = await store.get(userId, agentId);
    if (!agent.active) throw new SwitchyardError('INVALID_STATE', `Agent "${agent.name}" is paused`);
    const skill = registry.get(skillId);
    if (!skill) throw new SwitchyardError('NOT_FOUND', `Unknown skill "${skillId}"`);
    if (!agent.skills.includes(skillId)) throw new SwitchyardError('FORBIDDEN', `Agent "${agent.name}" does not have the skill "${skillId}"`);
    const valid = registry.validate(skillId, params);
    if (!valid.ok) throw new SwitchyardError('BAD_INPUT', `Invalid params for ${skillId}`, { issues: valid.issues.map((i) => ({ ...i, path: ['params', ...i.path] })) });

    return enqueue(agent, async () => {
      const meta: EffectMeta = opts.meta ?? { runId: randomUUID(), userId, nodeId: 'api', nodeType: 'agent.runSkill', effectKey: `api|${randomUUID()}` };
      const { ports, report } = await createDispatch(dispatchDeps, { agent, userId, meta, fromRun: !!opts.meta, grantEffects: opts.grantEffects ?? false });
      const context = { userId, agent: { id: agent.id, name: agent.name, systemPrompt: agent.systemPrompt, personalityPrompt: await memory.contextPrompt(agent.id, agent.personality) }, ports, ...(opts.trigger === undefined ? {} : { trigger: opts.trigger }) };
      let result: SkillResult;
      try {
        result = await skill.execute(valid.params, context);
      } catch (e) {
        // A refused tool is the agent's failure, reported as data; anything else fails the request.
        if (!(e instanceof SwitchyardError && e.code === 'FORBIDDEN')) throw e;
        result = { success: false, output: { error: e.message }, error: e.message };
      }
      await memory.addInteraction(agent.id, 'skill', skillId, {
        type: 'skill', summary: `${skill.name}: ${result.success ? 'done' : result.error ?? 'failed'}`, ...(opts.meta ? { runId: meta.runId } : {}),
      });
      return {
        success: result.success, output: result.output, ...(result.error ? { error: result.error } : {}),
        sideEffects: result.sideEffects ?? [], suggestedNextSteps: result.suggestedNextSteps ?? [], pendingApprovals: report.pendingApprovals,
        ...(report.model ? { model: report.model } : {}), toolCalls: report.toolCalls, untrusted: report.untrusted,
      };
    });
  }

  const offlineChat = (agent: AgentRecord, message: string, turns: number) => {
    const skills = agent.skills.map((s) => registry.get(s)?.name ?? s);
    const opener = turns === 0 ? `Hi, I'm ${agent.name}.${agent.description ? ` ${agent.description}.` : ''} ` : '';
    return `${opener}You said: "${message.trim().slice(0, 500)}". ${skills.length ? `I can help with ${skills.join(', ')}.` : 'I have no skills yet.'} I am running on the offline model, so my answers are templates.`;
  };

  const fullPrompt = async (agent: AgentRecord) => [agent.systemPrompt, await memory.contextPrompt(agent.id, agent.personality)].filter(Boolean).join('\n\n');

  const service = {
    registry,
    store,
    memory,
    llm,
    caps,
    list: (userId: string) => store.list(userId).then((as) => as.map((a) => ({ ...a, state: actors.has(a.id) ? stateOf(actors.get(a.id)!) : a.state }))),
    async get(userId: string, agentId: string) {
      const agent = await store.get(userId, agentId);
      return {
        ...agent,
        state: actors.has(agent.id) ? stateOf(actors.get(agent.id)!) : agent.state,
        personalityPrompt: personalityPrompt(agent.personality),
        systemPromptFull: await fullPrompt(agent),
        pendingApprovals: await pendingApprovals(agent.id),
        model: { name: llm.model, offline: llm.offline },
      };
    },
    async create(userId: string, input: AgentCreate) {
      const agent = await store.create(userId, input);
      spawn(agent, 0);
      return agent;
    },
    update: (userId: string, input: AgentUpdate) => store.update(userId, input),
    async remove(userId: string, agentId: string) {
      await store.remove(userId, agentId);
      actors.get(agentId)?.stop();
      actors.delete(agentId);
      return { id: agentId, deleted: true as const };
    },
    async remember(userId: string, agentId: string, key: string, value: unknown, ttlSeconds?: number) {
      const agent = await store.get(userId, agentId);
      await memory.remember(agent.id, key, value, ttlSeconds);
      return { key };
    },
    async recall(userId: string, agentId: string, key: string) {
      const agent = await store.get(userId, agentId);
      return { key, value: await memory.recall(agent.id, key) };
    },
    async forget(userId: string, agentId: string, key: string) {
      const agent = await store.get(userId, agentId);
      await memory.forget(agent.id, key);
      return { key };
    },
    /** The memory inspector: entries with expiry, recent interactions, the active conversation, pending approvals. */
    async memoryView(userId: string, agentId: string, opts: { prefix?: string; entityType?: string; entityId?: string } = {}) {
      const agent = await store.get(userId, agentId);
      const conversation = await sqlOne<{ id: string }>(deps.em(), 'select id from conversations where agent_id = ? and active order by updated_at desc limit 1', [agent.id]);
      const approvals = await sql<{ id: string; tool: string; args: { args: unknown }; reason: string; created_at: unknown }>(deps.em(),
        `select id, tool, args, reason, created_at from agent_approvals where agent_id = ? and status = 'pending' order by created_at`, [agent.id]);
      return {
        entries: await memory.entries(agent.id, opts.prefix ? { prefix: opts.prefix } : {}),
        interactions: opts.entityType && opts.entityId ? await memory.entityContext(agent.id, opts.entityType, opts.entityId) : await memory.recentInteractions(agent.id, 50),
        conversation: conversation ? { id: conversation.id, messages: await memory.history(conversation.id, 50) } : null,
        approvals: approvals.map((a) => ({ id: a.id, tool: a.tool, args: a.args.args, reason: a.reason, createdAt: new Date(String(a.created_at)).toISOString() })),
      };
    },
    /** Evolves the traits from feedback (seed days 8-9), persisted; returns the new traits and prompt. */
    async feedback(userId: string, agentId: string, feedback: FeedbackType[], comment = '') {
      const personality: Personality = await store.applyFeedback(userId, agentId, feedback);
      await memory.addInteraction(agentId, 'agent', agentId, { type: 'feedback', summary: `Feedback: ${feedback.join(', ')}`, feedback, comment });
      return { personality, personalityPrompt: personalityPrompt(personality) };
    },
    /** Chat with the agent: its system prompt, personality and the conversation's history (oldest first). */
    async chat(userId: string, agentId: string, message: string) {
      const agent = await store.get(userId, agentId);
      return enqueue(agent, async () => {
        const conversationId = await memory.activeConversation(agent.id, userId);
        const history = await memory.history(conversationId, 20);
        await memory.addMessage(conversationId, 'user', message);
        const res = await llm.complete({ userId, agentId: agent.id }, {
          purpose: 'chat', system: await fullPrompt(agent),
          messages: [...history.map((m) => ({ role: m.role, content: m.content })), { role: 'user' as const, content: message }],
          offline: () => ({ text: offlineChat(agent, message, history.length) }),
        });
        const reply = adjustResponse(res.text, agent.personality);
        await memory.addMessage(conversationId, 'assistant', reply, res.model);
        await memory.addInteraction(agent.id, 'conversation', conversationId, { type: 'chat', summary: `Chat: ${message.slice(0, 80)}` });
        return { conversationId, reply, model: res.model, offline: llm.offline, messages: await memory.history(conversationId, 50) };
      });
    },
    /**
     * A person's decision on an effect the agent proposed after reading untrusted content. Approving
     * runs it through the effect ledger keyed by the approval, so it happens at most once.
     */
    async decide(userId: string, agentId: string, approvalId: string, decision: 'approve' | 'reject', comment = '') {
      const agent = await store.get(userId, agentId);
      const row = /^[0-9a-f-]{36}$/i.test(approvalId)
        ? await sqlOne<{ id: string; tool: string; args: { args: Record<string, unknown> }; status: string; run_id: string | null }>(deps.em(),
          'select id, tool, args, status, run_id from agent_approvals where id = ? and agent_id = ? and user_id = ?', [approvalId, agent.id, userId])
        : null;
      if (!row) throw new SwitchyardError('NOT_FOUND', 'No such approval');
      if (row.status !== 'pending') throw new SwitchyardError('INVALID_STATE', `This proposal was already ${row.status}`);
      let result: { id: string } | null = null;
      if (decision === 'approve') {
        const meta: EffectMeta = { runId: row.run_id ?? row.id, userId, nodeId: 'approval', nodeType: 'agent.approval', effectKey: `approval|${row.id}` };
        const a = row.args.args;
        switch (row.tool) {
          case 'sendEmail':
            result = await ledger.crm.sendEmail(meta, { to: a.to as string[], subject: String(a.subject ?? ''), body: String(a.body ?? ''), ...(typeof a.threadId === 'string' ? { threadId: a.threadId } : {}) });
            break;
          case 'createCalendarEvent':
            result = await writeCalendarEvent(deps.em, nowIso(), meta, a as unknown as CalendarEventInput, row.run_id);
            break;
          case 'updateContact':
            result = await ledger.crm.updateContact(meta, { email: String(a.email), addTags: (a.addTags as string[]) ?? [], appendNote: String(a.appendNote ?? ''), touchLastInteraction: a.touchLastInteraction !== false });
            break;
          default:
            throw new SwitchyardError('INVALID_STATE', `Cannot run a proposed "${row.tool}"`);
        }
      }
      const status = decision === 'approve' ? 'approved' : 'rejected';
      await sql(deps.em(), `update agent_approvals set status = ?, decided_at = ? where id = ? and status = 'pending'`, [status, nowIso(), row.id]);
      await memory.addInteraction(agent.id, 'approval', row.id, { type: 'approval', summary: `${status} ${row.tool}`, comment });
      actors.get(agent.id)?.send({ type: 'approvals', count: await pendingApprovals(agent.id) });
      return { id: row.id, tool: row.tool, status, result };
    },
    runSkill,
    /** The port `agent.runSkill` workflow nodes use. */
    port: {
      runSkill: (meta, r) => runSkill(meta.userId, r.agentId, r.skill, r.params, { meta, grantEffects: r.grantEffects, trigger: r.trigger }),
    } satisfies AgentsPort,
    sweep: () => memory.sweep(),
    /** Rehydrates one actor per live agent (its state and pending approvals) and starts the memory sweep. */
    async start() {
      stopped = false;
      for (const agent of await store.all()) if (!actors.has(agent.id)) spawn(agent, await pendingApprovals(agent.id));
      sweeper = setInterval(() => void memory.sweep().catch((e: unknown) => deps.log?.error({ err: e }, 'memory sweep failed')), deps.sweepMs ?? 60_000);
      sweeper.unref();
    },
    async stop() {
      stopped = true;
      if (sweeper) clearInterval(sweeper);
      // Requests still queued are dropped, not failed: a workflow step waiting on one must not be
      // recorded as failed because the runtime stops; the restored run asks again (effects are keyed).
      requests.clear();
      await Promise.all(persisting.values());
      for (const a of actors.values()) a.stop();
      actors.clear();
    },
    stateOf: (agentId: string) => (actors.has(agentId) ? stateOf(actors.get(agentId)!) : null),
  };
  return service;
}
export type AgentsService = ReturnType<typeof createAgentsService>;
