import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { FlowDocumentSchema, SwitchyardError, type Diagnostic, type FlowDocument } from '@switchyard/schema';
import type { AgentRecord } from '../agents/agent.store';
import type { AgentsService, ChatTurn } from '../agents/agents.service';
import { adjustResponse } from '../agents/personality';
import { sql, sqlOne } from '../host/db';
import type { PlansService } from './plans.service';

/** A plan an agent proposed in chat, as `plans.chatProposals` and the chat answer carry it. */
export interface ChatPlanProposal {
  id: string;
  agentId: string;
  conversationId: string;
  /** The answer that offered the plan (`messages.id`): the chat shows the card under it. */
  messageId: number | null;
  task: string;
  document: FlowDocument;
  diagnostics: Diagnostic[];
  source: 'model' | 'offline';
  notice: string | null;
  createdAt: string;
}

interface ProposalRow {
  id: string; agent_id: string; conversation_id: string; message_id: string | number | null; task: string; document: unknown;
  diagnostics: Diagnostic[]; source: 'model' | 'offline'; notice: string | null; created_at: unknown;
}

const toProposal = (r: ProposalRow): ChatPlanProposal => ({
  id: r.id, agentId: r.agent_id, conversationId: r.conversation_id, messageId: r.message_id === null ? null : Number(r.message_id), task: r.task,
  // Stored by `proposePlanFromChat` from a checked document; parsed again so a reader gets the schema's type.
  document: FlowDocumentSchema.parse(r.document), diagnostics: r.diagnostics, source: r.source, notice: r.notice,
  createdAt: (r.created_at instanceof Date ? r.created_at : new Date(String(r.created_at))).toISOString(),
});

interface ChatPlanner {
  plans: PlansService;
  em: () => EntityManager;
  now: () => number;
}

/** The plans service behind each agents service: plans are set up after the agents (they use their mailboxes). */
const planners = new WeakMap<object, ChatPlanner>();

/** Lets chat with these agents propose plans (called by the plans wiring once the plans service exists). */
export function registerChatPlanner(agents: AgentsService, planner: ChatPlanner) {
  planners.set(agents, planner);
}

const list = (xs: string[]) => (xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs.at(-1)}`);

/** The answer offering a plan: its steps in words, who runs them, what runs at the same time. */
export function describeProposal(document: FlowDocument, agentName: (id: string) => string, skillName: (id: string) => string, diagnostics: Diagnostic[]) {
  const deps = (id: string) => document.edges.filter((e) => e.target === id).map((e) => e.source);
  const steps = document.nodes.map((n) => {
    const p = n.params as { name?: string; skill?: string; agent?: string };
    const after = deps(n.id);
    return `${p.name ?? n.id} (${skillName(p.skill ?? '')}, by ${agentName(p.agent ?? '')}${after.length ? `, after ${list(after)}` : ''})`;
  });
  const first = document.nodes.filter((n) => deps(n.id).length === 0).map((n) => String(n.params.name ?? n.id));
  const agents = new Set(document.nodes.map((n) => String(n.params.agent ?? '')));
  const errors = diagnostics.filter((d) => d.severity === 'error');
  return [
    `This needs ${document.nodes.length} steps across ${agents.size} agent${agents.size === 1 ? '' : 's'}, so I made a plan: ${steps.join('; ')}.`,
    first.length > 1 ? `${list(first)} run at the same time.` : '',
    errors.length ? `It has ${errors.length} problem${errors.length === 1 ? '' : 's'} to fix first: ${errors[0]!.message}.` : 'Open it on the canvas to review it, or run it now.',
  ].filter(Boolean).join(' ');
}

/**
 * Chat's way into plans: when the person asks for something that needs several skills (decided
 * by the deterministic analyser, see `needsPlan`), the coordinator (`fromTask`, the model when one
 * is configured) drafts a plan; the answer describes it and the proposal is stored beside the
 * answer for the chat's "Open on canvas" and "Run". Nothing runs until the person says so.
 * Null when the request is one skill's job (the agent handles it as before). A task some skill of
 * which no agent can run is answered with the coordinator's reason.
 */
export async function proposePlanFromChat(
  agents: AgentsService,
  agent: AgentRecord,
  p: { message: string; conversationId: string; userMessageId: number },
): Promise<ChatTurn | null> {
  const planner = planners.get(agents);
  if (!planner || !(await planner.plans.needsPlan(agent.userId, p.message))) return null;
  const { plans, em } = planner;
  const reply = async (text: string, model: string) => {
    const replyId = await agents.memory.addMessage(p.conversationId, 'assistant', text, model);
    await agents.memory.addInteraction(agent.id, 'conversation', p.conversationId, { type: 'chat', summary: `Chat: ${p.message.slice(0, 80)}` });
    return replyId;
  };
  // A question re-run after a crash finds the proposal it already made (and its answer).
  const existing = await sqlOne<ProposalRow>(em(), 'select * from plan_proposals where conversation_id = ? and user_message_id = ?', [p.conversationId, p.userMessageId]);
  if (existing && existing.message_id !== null) {
    const msg = await sqlOne<{ content: string; model: string | null }>(em(), 'select content, model from messages where id = ?', [existing.message_id]);
    const proposal = toProposal(existing);
    return { conversationId: p.conversationId, reply: msg?.content ?? '', replyId: Number(existing.message_id), model: msg?.model ?? agents.llm.model, plan: proposal } as ChatTurn;
  }
  let proposed: Awaited<ReturnType<PlansService['fromTask']>>;
  try {
    proposed = await plans.fromTask(agent.userId, { description: p.message }, { answeringAgent: agent.id });
  } catch (e) {
    if (!(e instanceof SwitchyardError) || !['NOT_FOUND', 'BAD_INPUT'].includes(e.code)) throw e;
    const text = adjustResponse(`This needs several steps, but I cannot plan it: ${e.message}.`, agent.personality);
    const replyId = await reply(text, agents.llm.model);
    return { conversationId: p.conversationId, reply: text, replyId, model: agents.llm.model };
  }
  const names = new Map((await agents.store.list(agent.userId)).map((a) => [a.id, a.name]));
  const text = adjustResponse(describeProposal(proposed.document, (id) => names.get(id) ?? 'any capable agent', (id) => agents.registry.get(id)?.name ?? id, proposed.diagnostics), agent.personality);
  const id = existing?.id ?? randomUUID();
  const at = new Date(planner.now()).toISOString();
  // The proposal is stored before the answer, so an answer never shows without its card.
  await sql(em(),
    `insert into plan_proposals (id, user_id, agent_id, conversation_id, user_message_id, task, document, diagnostics, source, notice, created_at)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict (conversation_id, user_message_id) do nothing`,
    [id, agent.userId, agent.id, p.conversationId, p.userMessageId, p.message, JSON.stringify(proposed.document), JSON.stringify(proposed.diagnostics), proposed.source, proposed.notice, at]);
  const model = proposed.source === 'model' ? proposed.model : agents.llm.model;
  const replyId = await reply(text, model);
  await sql(em(), 'update plan_proposals set message_id = ? where id = ?', [replyId, id]);
  const plan: ChatPlanProposal = {
    id, agentId: agent.id, conversationId: p.conversationId, messageId: replyId, task: p.message, document: proposed.document,
    diagnostics: proposed.diagnostics, source: proposed.source, notice: proposed.notice, createdAt: at,
  };
  const turn = { conversationId: p.conversationId, reply: text, replyId, model, plan };
  return turn;
}

/** The plans proposed in an agent's chat with this user, newest first (the chat's cards). */
export async function chatProposals(em: () => EntityManager, userId: string, agentId: string, limit = 50): Promise<ChatPlanProposal[]> {
  const rows = await sql<ProposalRow>(em(),
    `select * from plan_proposals where user_id = ? and agent_id::text = ? and message_id is not null order by created_at desc, id limit ?`, [userId, agentId, limit]);
  return rows.map(toProposal);
}
