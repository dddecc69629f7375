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

/**
 * Whether one trigger node of a compiled flow takes this payload (a condition trigger's check:
 * its condition over the figures). A condition that throws does not hold; its error is returned.
 */
export function triggerHolds(compiled: CompiledMachine, nodeId: string, payload: Record<string, unknown>): { holds: boolean; error: string | null } {
  const t = compiled.triggers.find((x) => x.nodeId === nodeId);
  if (!t || !isNodeType(t.type)) return { holds: false, error: `"${nodeId}" is not a trigger of this flow` };
  const impl = nodeImplementations[t.type];
  if (impl.kind !== 'trigger') return { holds: false, error: `"${nodeId}" is not a trigger` };
  try {
    return { holds: (impl.matches as (p: unknown, e: Record<string, unknown>) => boolean)(t.params, payload), error: null };
  } catch (e) {
    return { holds: false, error: (e as Error).message };
  }
}
