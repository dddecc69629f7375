import { z } from 'zod';
import { FlowDocumentSchema, IdSchema } from './document';

export const PERMISSIONS = ['email.read', 'email.draft', 'email.send', 'tasks.write', 'contacts.read', 'contacts.write', 'notifications.write', 'webhooks.call', 'memory.write'] as const;

/** A gallery entry: flows (and later agents) plus documentation. */
export const TemplateSchema = z.object({
  id: IdSchema,
  name: z.string().min(1).max(200),
  description: z.string().max(2000),
  category: z.enum(['email', 'sales', 'productivity', 'scheduling', 'support', 'other']),
  author: z.string().min(1).max(100),
  version: z.string().regex(/^\d+\.\d+\.\d+$/, 'Use semantic versions like 1.0.0'),
  requiredPermissions: z.array(z.enum(PERMISSIONS)).default([]),
  documents: z.array(FlowDocumentSchema).min(1),
  agents: z.array(z.unknown()).default([]),
  docs: z.string().max(50_000).default(''),
});
export type Template = z.infer<typeof TemplateSchema>;
