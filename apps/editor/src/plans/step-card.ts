/**
 * The line under a plan step's title on the canvas: its result name, who runs it (the chosen
 * agent's name, or "any capable agent" picked when the run starts) and whether it is not critical.
 * `agentName` is null while the agent is not known yet (the agents' feed has not answered); an
 * agent that does not exist is a diagnostic, which the card shows in this line's place.
 */
export function planStepSummary(params: Record<string, unknown>, agentName: string | null): string {
  const name = typeof params.name === 'string' && params.name ? params.name : '?';
  const agent = typeof params.agent === 'string' ? params.agent : '';
  const who = agent === '' || agent === 'any' ? 'any capable agent' : agentName ?? '…';
  return `${name} · ${who}${params.critical === false ? ' · not critical' : ''}`;
}
