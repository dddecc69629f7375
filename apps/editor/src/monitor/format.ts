import type { ApiClient, QueryOutput } from '../trpc';

export type ActorsPage = QueryOutput<ApiClient['monitor']['actors']>;
export type Actor = ActorsPage['items'][number];
export type RunActor = Extract<Actor, { kind: 'run' }>;
export type AgentActor = Extract<Actor, { kind: 'agent' }>;
export type PlanActor = Extract<Actor, { kind: 'plan' }>;
export type WaitsOn = RunActor['waitsOn'][number];
export type HistoryPage = QueryOutput<ApiClient['monitor']['runs']>;
export type HistoryItem = HistoryPage['items'][number];
export type Timeline = QueryOutput<ApiClient['monitor']['run']>;
export type Span = Timeline['spans'][number];
export type ModelCall = Span['modelCalls'][number];
export type Metrics = QueryOutput<ApiClient['monitor']['metrics']>;

/** "1.2 s", "4 min 3 s", "2 h 5 min", "3 days 4 h". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min${Math.round(s % 60) ? ` ${Math.round(s % 60)} s` : ''}`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h${m % 60 ? ` ${m % 60} min` : ''}`;
  const d = Math.floor(h / 24);
  return `${d} day${d === 1 ? '' : 's'}${h % 24 ? ` ${h % 24} h` : ''}`;
}

/** A clock time, with the date when it is not today. */
export function formatClock(iso: string, now: number = Date.now()): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  const sameDay = d.toDateString() === new Date(now).toDateString();
  return sameDay
    ? d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
    : d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** What a run waits on, in words: "waiting until 16:00:07", "waiting for approval", "waiting for Sales assistant". */
export function waitsOnText(w: WaitsOn, now?: number): string {
  switch (w.type) {
    case 'delay':
      return `${w.retry ? 'retrying at' : 'waiting until'} ${formatClock(w.until, now)}`;
    case 'approval':
      return 'waiting for approval';
    case 'agent':
      return w.approval ? `waiting for your decision on ${w.agentName}'s proposal` : `waiting for agent ${w.agentName}`;
    case 'step':
      return `running ${w.nodeType ? nodeKindLabel(w.nodeType) : 'a step'}`;
  }
}

const KIND_LABEL: Record<string, string> = {
  'trigger.manual': 'Manual trigger', 'trigger.emailReceived': 'Email received', 'trigger.emailSent': 'Email sent', 'trigger.contactCreated': 'Contact created',
  'trigger.userLogin': 'User login', 'trigger.schedule': 'Schedule', 'trigger.webhook': 'Webhook trigger',
  'condition.contactExists': 'Contact exists', 'condition.businessHours': 'Business hours', 'condition.expression': 'Expression', 'condition.if': 'If',
  'action.sendEmail': 'Send email', 'action.draftReply': 'Draft reply', 'action.createTask': 'Create task', 'action.updateContact': 'Update contact',
  'action.scheduleFollowUp': 'Schedule follow-up', 'action.sendNotification': 'Send notification', 'action.webhook': 'Webhook', 'action.setMemory': 'Set memory',
  'agent.runSkill': 'Run agent skill', 'flow.delay': 'Delay', 'flow.approval': 'Approval', 'plan.step': 'Plan step',
};
export const nodeKindLabel = (type: string): string => KIND_LABEL[type] ?? type;

export const AGENT_STATUS_LABEL: Record<AgentActor['status'], string> = {
  idle: 'Idle', working: 'Working', waiting_approval: 'Waiting for approval', error: 'Error',
};

/** "83%" or "—" when nothing was measured. */
export const percent = (r: number | null | undefined): string => (r === null || r === undefined ? '—' : `${Math.round(r * 100)}%`);

/** "2 h 30 min" from minutes. */
export const formatMinutes = (min: number): string => (min < 1 ? `${Math.round(min * 60)} s` : formatDuration(min * 60_000));

/** JSON for a details panel: pretty, and cut when very long. */
export function preview(value: unknown, max = 4000): string {
  if (value === null || value === undefined) return '—';
  const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  return text.length > max ? `${text.slice(0, max)}\n… (${text.length - max} more characters)` : text;
}
