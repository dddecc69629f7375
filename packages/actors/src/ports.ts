/**
 * The ports a run needs from the outside world. The runtime implements them against
 * PostgreSQL, the outbound guard and the LLM; tests and the editor's simulator use fakes.
 */

import type { ErrorCode } from '@switchyard/schema';

/** Identifies one visible effect; the runtime hashes `effectKey` into the idempotency key. */
export interface EffectMeta {
  runId: string;
  userId: string;
  nodeId: string;
  nodeType: string;
  /** Stable across retries and restarts: run, node and the rendered params. */
  effectKey: string;
  /** A behavior's activation number (absent in workflows): per-run limits count one activation. */
  activation?: number;
  /**
   * Set for a node whose only effect is one ledger statement (a task, a notification, a memory
   * entry): its node did not wait for the step that started it to commit, and its effect goes
   * with that step instead (`Ride`). Every other use of the ports must wait for `committed` first.
   */
  ride?: Ride;
}

export interface ContactRef {
  id: string;
  name: string;
  email: string;
  company?: string | null;
  relationshipStrength: number;
}

export interface EmailRef {
  from: string;
  fromName?: string;
  to: string[];
  subject: string;
  body: string;
  threadId?: string;
}

/** A notification button as a node hands it to the runtime (params rendered; see the schema's kinds). */
export interface NotificationActionSpec {
  id: string;
  label: string;
  kind?: 'compose-email' | 'complete-follow-up' | 'snooze' | 'dismiss' | 'open-contact' | 'custom';
  draft?: { to: string; subject: string; body: string };
  followUpId?: string;
  snoozeFor?: string;
}

/** A contact as the CRM query nodes list it. */
export interface ContactSummary extends ContactRef {
  lastInteractionAt: string | null;
  /** Whole days since the last interaction at query time; null when there never was one. */
  daysSinceInteraction: number | null;
  tags: string[];
}

export interface FollowUpSummary {
  id: string;
  dueAt: string;
  note: string;
  status: 'pending' | 'snoozed';
  createdAt: string;
  threadId: string | null;
  contact: ContactRef;
  /** The first email of the follow-up's thread, when it has one. */
  originalEmail: { id: string; from: string; to: string[]; subject: string; body: string; at: string; direction: 'inbound' | 'outbound' } | null;
  /** The newest email the contact sent in the thread (null: none): later than `createdAt` means they answered. */
  lastInboundAt?: string | null;
}

export interface CrmPort {
  findContactByEmail(userId: string, email: string): Promise<ContactRef | null>;
  /** Read-only queries of the CRM query nodes; `now` is the run's clock reading. */
  findContacts(
    userId: string,
    q: {
      now: string; dormantDays?: number; minStrength?: number; tag?: string; orderBy: 'strength' | 'lastInteraction' | 'name'; order: 'asc' | 'desc'; limit: number;
      /** Leave out contacts the user got a suggestion about within these many days (with `notSuggestedKey`: one with that suggestion key). */
      notSuggestedDays?: number;
      notSuggestedKey?: string;
    },
  ): Promise<ContactSummary[]>;
  findFollowUps(userId: string, q: { now: string; dueBefore: string; includeSnoozed: boolean; limit: number }): Promise<FollowUpSummary[]>;
  /** Emails in the thread after `since` (none when the thread is not the user's). */
  hasRecentEmail(userId: string, q: { threadId: string; since: string; direction: 'any' | 'inbound' | 'outbound' }): Promise<{ count: number; lastEmailAt: string | null }>;
  sendEmail(meta: EffectMeta, e: { to: string[]; subject: string; body: string; threadId?: string }): Promise<{ id: string }>;
  createDraft(
    meta: EffectMeta,
    d: { to: string[]; subject: string; body: string; threadId?: string; contactId?: string },
  ): Promise<{ id: string }>;
  createTask(
    meta: EffectMeta,
    t: { title: string; description: string; dueAt: string; priority: 'low' | 'medium' | 'high'; contactId?: string },
  ): Promise<{ id: string }>;
  /** Null when no contact has that address. */
  updateContact(
    meta: EffectMeta,
    c: { email: string; relationshipStrength?: number; addTags: string[]; appendNote: string; touchLastInteraction: boolean },
  ): Promise<{ id: string } | null>;
  /**
   * With a `suggestionKey`, a notification with the same key for the same contact raised within
   * `dedupeWindowMs` makes this a no-op answering that one's id with `deduped: true`.
   */
  createNotification(
    meta: EffectMeta,
    n: {
      type: string; title: string; body: string; priority: 'low' | 'normal' | 'high'; actions: NotificationActionSpec[];
      contactId?: string; suggestionKey?: string; dedupeWindowMs?: number;
    },
  ): Promise<{ id: string; deduped?: boolean }>;
  scheduleFollowUp(meta: EffectMeta, f: { email: string; dueAt: string; note: string }): Promise<{ id: string } | null>;
}

export interface OutboundRequest {
  url: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
}

export interface OutboundPort {
  /** The runtime adds the `Idempotency-Key` header derived from `meta.effectKey`. */
  request(meta: EffectMeta, r: OutboundRequest): Promise<{ status: number; body: string }>;
}

export interface MemoryPort {
  remember(meta: EffectMeta, key: string, value: unknown, ttlSeconds?: number): Promise<void>;
}

export interface TimerPort {
  /**
   * Resolves once `ms` after the *first* call for (runId, key) has passed on the runtime clock.
   * Durable: a restarted run calling it again waits only for the remainder.
   */
  sleep(timer: { runId: string; key: string }, ms: number, signal: AbortSignal): Promise<void>;
}

export interface Clock {
  now(): number;
}

export interface ComposerPort {
  /** Writes the body of a reply. Offline builds answer from templates; online ones call the LLM. */
  draftReply(input: {
    email: EmailRef;
    contact: ContactRef | null;
    tone: 'professional' | 'friendly' | 'concise';
    maxLength: number;
    instructions: string;
    signal: AbortSignal;
  }): Promise<{ body: string; model: string }>;
}

/** What an agent's skill run gives back to the workflow node that asked for it. */
export interface AgentSkillOutcome {
  success: boolean;
  output: unknown;
  error?: string;
  /** The typed code of a failure the runtime caught (FORBIDDEN: a tool outside an install's grant); absent for a skill's own failure. */
  errorCode?: ErrorCode;
  sideEffects: { type: string; data: unknown }[];
  suggestedNextSteps: string[];
  /** Effects the agent proposed that wait for a person's approval. */
  pendingApprovals: { id: string; tool: string; reason: string }[];
  /** 'offline' when the deterministic provider answered. */
  model?: string;
}

/** A person's decision on an effect an agent proposed; `result` is what the approved effect made. */
export interface AgentApprovalDecision {
  id: string;
  tool: string;
  status: 'approved' | 'rejected';
  result: unknown;
}

export interface AgentsPort {
  /**
   * Sends a request to the agent's mailbox and resolves with the skill's result. Effects inside
   * are keyed from `meta.effectKey`, so a retried or restored step never duplicates them.
   */
  runSkill(
    meta: EffectMeta,
    req: { agentId: string; skill: string; params: Record<string, unknown>; grantEffects: boolean; trigger?: unknown; signal?: AbortSignal; attempt?: number },
  ): Promise<AgentSkillOutcome>;
  /**
   * Waits (durably: a restored step asks again) until a person decided every one of these
   * proposals, and resolves with the decisions in the same order.
   */
  awaitApprovals(meta: EffectMeta, approvalIds: string[], signal?: AbortSignal): Promise<AgentApprovalDecision[]>;
}

/**
 * Persist before effect: a node's implementation starts only once the transition that started it
 * is durable. The host resolves `committed` when that write has committed; when it cannot (the
 * write failed, the run was lost to another process) the promise never resolves and the run's
 * actor is stopped, which aborts `signal`.
 */
export interface DurabilityPort {
  committed(runId: string, signal: AbortSignal): Promise<void>;
  /**
   * For a node whose effect is one statement (`RIDES_WITH_STEP`): instead of waiting for the
   * step that started it to commit, its effect may be written by that step's statement (one
   * commit for both: the effect never stands without its cause). Asked as the node starts.
   */
  ride?(runId: string, signal: AbortSignal): Ride;
  /**
   * Asked as a node that waits for no commit starts (a condition): a promise when the steps run
   * since the event loop last turned have held it long enough, resolved at its next turn, so the
   * database's answers are read and the next batch of steps is sent while the runs go on.
   * Undefined (no wait) otherwise.
   */
  pace?(): Promise<void> | undefined;
}

/**
 * An effect travelling with the step that started its node. `attach` hands the runtime's write
 * (opaque here) to the run's step still queued for the database: `outcome` then resolves with
 * what its statement said of the effect once it committed. Null when no step is queued any more
 * (it is on its way or stored): then the effect waits for `committed` and is written on its own.
 */
export interface Ride {
  attach(write: unknown): Promise<{ outcome: Promise<unknown> } | null>;
  committed(): Promise<void>;
}

export interface RunPorts {
  /** Absent in simulations and unit tests, where nothing is persisted. */
  durability?: DurabilityPort;
  crm: CrmPort;
  outbound: OutboundPort;
  memory: MemoryPort;
  timers: TimerPort;
  clock: Clock;
  composer: ComposerPort;
  agents: AgentsPort;
}
