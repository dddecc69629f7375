/**
 * What the install wizard says about a bundle's flows: workflows and behaviors are deployed (or
 * stay drafts); plans are run, not deployed, so a bundle of plans only offers no deploy option.
 */
export interface FlowKinds { deployable: number; plans: number }

export const flowKindsOf = (flows: readonly { kind: string }[]): FlowKinds => ({
  deployable: flows.filter((f) => f.kind !== 'plan').length,
  plans: flows.filter((f) => f.kind === 'plan').length,
});

const plural = (n: number, one: string, many: string) => (n === 1 ? one : many);

/** The line under the deploy option, or in its place when nothing can be deployed (null: nothing to say). */
export function installHint(k: FlowKinds): string | null {
  if (k.plans === 0) return null;
  const plans = plural(k.plans, 'The plan is', 'The plans are');
  return `${plans} run, not deployed: after installing, open ${plural(k.plans, 'it', 'one')} on the canvas and press Run plan.`;
}

/** The sentence after "Installed …": what was deployed, what stays a draft, how plans are run. */
export function installedNote(k: FlowKinds, deployed: number): string {
  const parts: string[] = [];
  if (deployed > 0) parts.push(`${deployed} flow${deployed === 1 ? '' : 's'} deployed.`);
  else if (k.deployable > 0) parts.push(`The flow${k.deployable === 1 ? ' is a draft' : 's are drafts'} until you deploy ${k.deployable === 1 ? 'it' : 'them'}.`);
  if (k.plans > 0) parts.push(`Run the plan${k.plans === 1 ? '' : 's'} from the canvas (open ${k.plans === 1 ? 'it' : 'one'} below, then Run plan); each run has its page under Plans.`);
  return parts.join(' ');
}
