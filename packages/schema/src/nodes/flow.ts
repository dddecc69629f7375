import { z } from 'zod';
import { IN, OUT, defineNodeKind, durationString, template } from './common';

export const delayNode = defineNodeKind({
  type: 'flow.delay', typeVersion: 1, category: 'flow', label: 'Wait',
  description: 'Pauses the run; the wait survives restarts.',
  params: z.object({ duration: durationString('1 hour').describe('e.g. "2 hours", "30 minutes"') }),
  inputs: [IN], outputs: [OUT],
});

export const approvalNode = defineNodeKind({
  type: 'flow.approval', typeVersion: 1, category: 'flow', label: 'Human approval',
  description: 'Waits until a person approves or rejects. Never decides on its own.',
  params: z.object({
    title: template(200).min(1, 'What needs approval?').default('Approval needed'),
    details: template(5000).default(''),
  }),
  inputs: [IN],
  outputs: [
    { id: 'approved', label: 'Approved', dataType: 'inherit' },
    { id: 'rejected', label: 'Rejected', dataType: 'inherit' },
  ],
});
