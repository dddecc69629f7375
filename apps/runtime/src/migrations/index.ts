import type { MigrationObject } from '@mikro-orm/core';
import { Migration0001Initial } from './0001-initial';
import { Migration0002Agents } from './0002-agents';
import { Migration0003RunLeases } from './0003-run-leases';
import { Migration0004AgentMailbox } from './0004-agent-mailbox';
import { Migration0005RunCommands } from './0005-run-commands';
import { Migration0006RuntimeV2 } from './0006-runtime-v2';
import { Migration0007FlowLifecycle } from './0007-flow-lifecycle';
import { Migration0008AgentChatStatus } from './0008-agent-chat-status';
import { Migration0012Plans } from './0012-plans';
import { Migration0009Templates } from './0009-templates';
import { Migration0010Monitor } from './0010-monitor';
import { Migration0011Notifications } from './0011-notifications';
import { Migration0013JournalDeltas } from './0013-journal-deltas';
import { Migration0014RunWaits } from './0014-run-waits';
import { Migration0015AgentLeases } from './0015-agent-leases';
import { Migration0016PlanProposals } from './0016-plan-proposals';
import { Migration0017ReplayCoherence } from './0017-replay-coherence';
import { Migration0018ConditionTriggers } from './0018-condition-triggers';
import { Migration0019BehaviorAudience } from './0019-behavior-audience';
import { Migration0020LlmCallActivation } from './0020-llm-call-activation';
import { Migration0021TemplateInstallers } from './0021-template-installers';

/** Every migration in order. Listed explicitly so no filesystem glob is needed at run time. */
export const migrationsList: MigrationObject[] = [
  { name: '0001-initial', class: Migration0001Initial },
  { name: '0002-agents', class: Migration0002Agents },
  { name: '0003-run-leases', class: Migration0003RunLeases },
  { name: '0004-agent-mailbox', class: Migration0004AgentMailbox },
  { name: '0005-run-commands', class: Migration0005RunCommands },
  { name: '0006-runtime-v2', class: Migration0006RuntimeV2 },
  { name: '0007-flow-lifecycle', class: Migration0007FlowLifecycle },
  { name: '0008-agent-chat-status', class: Migration0008AgentChatStatus },
  { name: '0009-templates', class: Migration0009Templates },
  { name: '0010-monitor', class: Migration0010Monitor },
  { name: '0011-notifications', class: Migration0011Notifications },
  { name: '0012-plans', class: Migration0012Plans },
  { name: '0013-journal-deltas', class: Migration0013JournalDeltas },
  { name: '0014-run-waits', class: Migration0014RunWaits },
  { name: '0015-agent-leases', class: Migration0015AgentLeases },
  { name: '0016-plan-proposals', class: Migration0016PlanProposals },
  { name: '0017-replay-coherence', class: Migration0017ReplayCoherence },
  { name: '0018-condition-triggers', class: Migration0018ConditionTriggers },
  { name: '0019-behavior-audience', class: Migration0019BehaviorAudience },
  { name: '0020-llm-call-activation', class: Migration0020LlmCallActivation },
  { name: '0021-template-installers', class: Migration0021TemplateInstallers },
];
