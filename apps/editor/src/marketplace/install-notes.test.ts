import { describe, expect, it } from 'vitest';
import { flowKindsOf, installedNote, installHint } from './install-notes';

describe('install wizard wording', () => {
  it('a bundle holding only a plan offers no deploy and says plans are run from the canvas', () => {
    const k = flowKindsOf([{ kind: 'plan' }]);
    expect(k).toEqual({ deployable: 0, plans: 1 });
    expect(installHint(k)).toBe('The plan is run, not deployed: after installing, open it on the canvas and press Run plan.');
    expect(installedNote(k, 0)).toBe('Run the plan from the canvas (open it below, then Run plan); each run has its page under Plans.');
    expect(installedNote(k, 0)).not.toMatch(/deploy/i);
  });

  it('workflows are deployed or stay drafts; a mixed bundle says both', () => {
    const flows = flowKindsOf([{ kind: 'workflow' }, { kind: 'behavior' }]);
    expect(installHint(flows)).toBeNull();
    expect(installedNote(flows, 2)).toBe('2 flows deployed.');
    expect(installedNote(flows, 0)).toBe('The flows are drafts until you deploy them.');
    expect(installedNote(flowKindsOf([{ kind: 'workflow' }]), 0)).toBe('The flow is a draft until you deploy it.');
    const mixed = flowKindsOf([{ kind: 'workflow' }, { kind: 'plan' }, { kind: 'plan' }]);
    expect(installHint(mixed)).toBe('The plans are run, not deployed: after installing, open one on the canvas and press Run plan.');
    expect(installedNote(mixed, 1)).toBe('1 flow deployed. Run the plans from the canvas (open one below, then Run plan); each run has its page under Plans.');
  });
});
