import { isNodeType } from '@switchyard/schema';
import type { CompiledMachine, CompiledTrigger } from './compiler/types';
import { nodeImplementations } from './nodes/registry';

/**
 * The triggers of a compiled flow that an event starts. A trigger whose filter throws does not
 * match (a bad filter must not take the event pipeline down); the error is returned for the journal.
 */
export function matchTrigger(
  compiled: CompiledMachine,
  eventType: string,
  payload: Record<string, unknown>,
): { matched: CompiledTrigger[]; errors: { nodeId: string; message: string }[] } {
  const matched: CompiledTrigger[] = [];
  const errors: { nodeId: string; message: string }[] = [];
  for (const t of compiled.triggers) {
    if (t.listensTo !== eventType || !isNodeType(t.type)) continue;
    const impl = nodeImplementations[t.type];
    if (impl.kind !== 'trigger') continue;
    try {
      if ((impl.matches as (p: unknown, e: Record<string, unknown>) => boolean)(t.params, payload)) matched.push(t);
    } catch (e) {
      errors.push({ nodeId: t.nodeId, message: (e as Error).message });
    }
  }
  return { matched, errors };
}
