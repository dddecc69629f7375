import { SwitchyardError, defaultCatalog, parseDuration } from '@switchyard/schema';
import { evaluateExpression, renderParams, truthy, type Scope } from '../expression';
import { stableStringify } from '../stable-json';
import { nodeImplementations } from './registry';
import { pass, timerKeyOf, type EventImplementation, type InvokeImplementation } from "./types";

export const delay: InvokeImplementation<'flow.delay'> = {
  kind: 'invoke',
  async run({ params, runId, nodeId, signal, activation }, { timers }) {
    const ms = parseDuration(params.duration) ?? 0;
    await timers.sleep({ runId, key: timerKeyOf(nodeId, activation) }, ms, signal);
    return pass({ waitedMs: ms });
  },
};

/** Approval waits for an event, not an invoked actor; the compiler gives it its own states. */
export const approval: EventImplementation = { kind: "event" };

/** Waiting for an event is a state that an `event.deliver` command ends, like an approval. */
export const waitForEvent: EventImplementation = { kind: 'event' };

/** The items a for-each does: the list, those `where` picks (with their place in the list), at most `maxItems`. */
export function pickItems(params: { items: unknown; where: string; maxItems: number }, scope: Scope) {
  const list: unknown = params.items;
  if (!Array.isArray(list)) {
    throw new SwitchyardError('BAD_INPUT', `"items" must be a list, e.g. {{ nodes.find.contacts }}; it is ${list === null || list === undefined || list === '' ? 'empty' : typeof list}`, { nonRetryable: true });
  }
  // `where` picks items (its index is the item's place in the list, so keys stay put as others drop out).
  const picked = list.map((item: unknown, index) => ({ item, index }))
    .filter(({ item, index }) => !params.where.trim() || truthy(evaluateExpression(params.where, { ...scope, item, index })));
  return { total: list.length, skipped: list.length - picked.length, items: picked.slice(0, params.maxItems) };
}

/**
 * One action per item of a list. Each item's settings are rendered with `item` and `index` in
 * scope and checked against the action's own params; each item's effect key is the node's plus the
 * item's position and settings, so a replay after a crash finds the items already done in the
 * ledger and does only the rest. A failed item fails the node (its retry redoes only what failed).
 *
 * With a branch (`inv.branch`, edges leave the node's `each` output) it only picks the items: the
 * run's machine runs the branch once per item (see the compiler's `branchStates`).
 */
export const forEach: InvokeImplementation<'flow.forEach'> = {
  kind: 'invoke',
  async run(inv, ports) {
    const { total, skipped, items } = pickItems(inv.params, inv.scope);
    if (inv.branch) return { output: { total, skipped, items }, handles: [] };
    const action = inv.params.action;
    const spec = defaultCatalog.get(action)!;
    const impl = nodeImplementations[action] as unknown as { kind: string; run: (i: typeof inv, p: typeof ports) => Promise<{ output: unknown; handles: string[] }> };
    const one = async ({ item, index }: { item: unknown; index: number }) => {
      const scope = { ...inv.scope, item, index };
      const parsed = spec.params.safeParse(renderParams(inv.params.with, scope));
      if (!parsed.success) {
        const why = parsed.error.issues.map((i) => `${i.path.join('.') || 'settings'}: ${i.message}`).join('; ');
        throw new SwitchyardError('BAD_INPUT', `Item ${index + 1}: ${why}`, { nonRetryable: true });
      }
      const params = parsed.data as Record<string, unknown>;
      const { retry: _r, continueOnError: _c, ...effectInput } = params;
      const outcome = await impl.run({
        ...inv, nodeId: `${inv.nodeId}[${index}]`, nodeType: action, params: params as never, scope,
        effectKey: stableStringify([inv.effectKey, index, effectInput]),
      }, ports);
      return { index, output: outcome.output, handles: outcome.handles };
    };
    const results: { index: number; output: unknown; handles: string[] }[] = [];
    if (inv.params.mode === 'sequential') {
      for (const entry of items) results.push(await one(entry));
    } else {
      const settled = await Promise.allSettled(items.map((entry) => one(entry)));
      const failed = settled.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed.length) throw failed[0]!.reason;
      for (const r of settled) if (r.status === 'fulfilled') results.push(r.value);
    }
    return pass({ count: results.length, total, skipped, results });
  },
};
