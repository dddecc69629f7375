import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_PLAN_BACKOFF_MS } from '@switchyard/schema';
import { createActor, toPromise } from 'xstate';
import { analyzePlan, type PlanFacts } from './analyze';
import { backoffDelay, createPlanMachine, planStepActor, type PlanMachineInput, type PlanPort, type PlanStepRequest } from './machine';

type StepDef = { id: string; name?: string; skill?: string; agent?: string; params?: Record<string, unknown>; critical?: boolean; retry?: Record<string, number>; timeoutMs?: number };
const planDoc = (steps: StepDef[], edges: [string, string][]) => ({
  schemaVersion: 1, id: 'p', kind: 'plan', name: 'Plan',
  nodes: steps.map((s, i) => ({
    id: s.id, type: 'plan.step', position: { x: i * 200, y: 0 },
    params: { name: s.name ?? s.id, skill: s.skill ?? 'research-contact', agent: s.agent ?? 'any', params: s.params ?? {}, ...(s.critical === undefined ? {} : { critical: s.critical }), ...(s.retry ? { retry: s.retry } : {}), ...(s.timeoutMs ? { timeoutMs: s.timeoutMs } : {}) },
  })),
  edges: edges.map(([source, target], i) => ({ id: `e${i}`, source, target })),
});

/** A port whose steps finish when the test says so; records starts, ends and aborts in order. */
function controllablePort(behaviour: (req: PlanStepRequest) => 'hold' | 'ok' | 'fail' = () => 'hold') {
  const log: string[] = [];
  const pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: unknown) => void; req: PlanStepRequest }>();
  const port: PlanPort = {
    runStep(req, signal) {
      log.push(`start ${req.name}#${req.attempt}`);
      signal.addEventListener('abort', () => log.push(`abort ${req.name}`));
      const b = behaviour(req);
      if (b === 'ok') return Promise.resolve({ from: req.name, params: req.params });
      if (b === 'fail') return Promise.reject(new Error(`${req.name} broke`));
      return new Promise((resolve, reject) => pending.set(req.name, { resolve, reject, req }));
    },
  };
  const tick = () => new Promise((r) => setTimeout(r, 0));
  return {
    port, log, pending, tick,
    async finish(name: string, output: unknown = { from: name }) {
      pending.get(name)!.resolve(output);
      pending.delete(name);
      await tick();
    },
    async fail(name: string, message = `${name} broke`) {
      pending.get(name)!.reject(new Error(message));
      pending.delete(name);
      await tick();
    },
  };
}

function start(doc: unknown, port: PlanPort, input: PlanMachineInput = {}) {
  const a = analyzePlan(doc);
  expect(a.diagnostics).toEqual([]);
  const machine = createPlanMachine(a.plan!).provide({ actors: { runStep: planStepActor(port) } });
  const actor = createActor(machine, { input }).start();
  return { actor, done: toPromise(actor), plan: a.plan! };
}

describe('plan machine', () => {
  it('runs every ready step at once and passes results forward by name', async () => {
    const p = controllablePort();
    const doc = planDoc([
      { id: 'a', name: 'web' }, { id: 'b', name: 'social' },
      { id: 'c', name: 'email', skill: 'draft-email', params: { to: '{{ steps.web.output.email }}', note: 'Seen on {{ steps.social.output.site }}' } },
    ], [['a', 'c'], ['b', 'c']]);
    const { done } = start(doc, p.port);
    await p.tick();
    // Both independent steps started before either finished.
    expect(p.log).toEqual(['start web#0', 'start social#0']);
    await p.finish('social', { site: 'linkedin' });
    expect(p.log).toEqual(['start web#0', 'start social#0']);
    await p.finish('web', { email: 'john@doe.test' });
    expect(p.pending.get('email')!.req.params).toEqual({ to: 'john@doe.test', note: 'Seen on linkedin' });
    await p.finish('email', { sent: true });
    const out = await done;
    expect(out).toEqual({ status: 'success', errors: [], results: { web: { email: 'john@doe.test' }, social: { site: 'linkedin' }, email: { sent: true } } });
  });

  it('a critical failure cancels the running steps and skips the rest; partial results stay', async () => {
    const p = controllablePort();
    const { done, actor } = start(planDoc([{ id: 'a' }, { id: 'b' }, { id: 'c' }, { id: 'd' }], [['a', 'c'], ['b', 'd']]), p.port);
    await p.tick();
    await p.finish('a');
    await p.tick();
    expect(p.log).toEqual(['start a#0', 'start b#0', 'start c#0']);
    await p.fail('c', 'no contact');
    const out = await done;
    expect(p.log).toContain('abort b');
    expect(out.status).toBe('failed');
    expect(out.results).toEqual({ a: { from: 'a' } });
    expect(out.errors).toEqual([{ step: 'c', message: 'no contact', critical: true }]);
    const steps = actor.getSnapshot().context.steps;
    expect([steps.b!.status, steps.d!.status]).toEqual(['cancelled', 'skipped']);
  });

  it('a non-critical failure skips only its dependents; the independent branch finishes', async () => {
    const p = controllablePort();
    const { done, actor } = start(planDoc([{ id: 'a', critical: false }, { id: 'b' }, { id: 'c', critical: false }], [['a', 'c']]), p.port);
    await p.tick();
    await p.fail('a');
    await p.finish('b');
    const out = await done;
    expect(out).toEqual({ status: 'success', results: { b: { from: 'b' } }, errors: [{ step: 'a', message: 'a broke', critical: false }] });
    expect(actor.getSnapshot().context.steps.c).toMatchObject({ status: 'skipped', error: 'Skipped: a did not finish' });
    expect(p.log).not.toContain('start c#0');
  });

  it('params that cannot be read when a non-critical step starts fail only that step; the independent branch finishes', async () => {
    const p = controllablePort(() => 'ok');
    const { done, actor } = start(planDoc([
      { id: 'a' },
      // Valid to the analyser (the key is computed), refused when rendered.
      { id: 'bad', critical: false, params: { x: '{{ steps.a.output[lower("__PROTO__")] }}' } },
      { id: 'after', critical: false, params: { y: '{{ steps.bad.output }}' } },
      { id: 'other' },
    ], [['a', 'bad'], ['bad', 'after']]), p.port);
    const out = await done;
    expect(out).toEqual({
      status: 'success', results: { a: { from: 'a', params: {} }, other: { from: 'other', params: {} } },
      errors: [{ step: 'bad', message: 'Its params could not be read: That property is not accessible', critical: false }],
    });
    const steps = actor.getSnapshot().context.steps;
    expect(steps.bad).toEqual({ status: 'failed', attempt: 0, error: 'Its params could not be read: That property is not accessible' });
    expect(steps.after).toMatchObject({ status: 'skipped', error: 'Skipped: bad did not finish' });
    expect(p.log.sort()).toEqual(['start a#0', 'start other#0']);
  });

  it('params that cannot be read when a critical step starts halt the plan like its failure', async () => {
    const p = controllablePort();
    const { done, actor } = start(planDoc([
      { id: 'a' }, { id: 'bad', params: { x: '{{ context[lower("__PROTO__")] }}' } }, { id: 'slow' },
    ], [['a', 'bad']]), p.port);
    await p.tick();
    await p.finish('a');
    const out = await done;
    expect(out).toMatchObject({ status: 'failed', errors: [{ step: 'bad', message: 'Its params could not be read: That property is not accessible', critical: true }] });
    expect(actor.getSnapshot().context.steps.slow!.status).toBe('cancelled');
    expect(p.log).toEqual(['start a#0', 'start slow#0', 'abort slow']);
  });

  it('retries with backoff, each attempt numbered', async () => {
    let calls = 0;
    const p = controllablePort(() => (++calls < 3 ? 'fail' : 'ok'));
    const { done } = start(planDoc([{ id: 'a', retry: { maxAttempts: 3, backoffMs: 5, factor: 2 } }], []), p.port);
    const out = await done;
    expect(p.log).toEqual(['start a#0', 'start a#1', 'start a#2']);
    expect(out.status).toBe('success');
  });

  describe('a backoff longer than a timer holds', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('waits the longest a timer holds instead of retrying at once (a run stored before the analyser refused it)', async () => {
      // Fake timers behave like Node's: a delay over 2^31-1 ms fires after 1 ms.
      vi.useFakeTimers();
      const p = controllablePort(() => 'fail');
      const { plan } = analyzePlan(planDoc([{ id: 'a' }], []));
      const spec = { ...plan!, steps: [{ ...plan!.steps[0]!, retry: { maxAttempts: 2, backoffMs: 3_000_000_000, factor: 2 } }] };
      const actor = createActor(createPlanMachine(spec).provide({ actors: { runStep: planStepActor(p.port) } }), { input: {} }).start();
      await vi.advanceTimersByTimeAsync(1000);
      expect(p.log).toEqual(['start a#0']);
      expect(actor.getSnapshot().value).toEqual({ active: { a: 'backoff' } });
      await vi.advanceTimersByTimeAsync(MAX_PLAN_BACKOFF_MS - 1000);
      expect(p.log).toEqual(['start a#0', 'start a#1']);
      expect(backoffDelay(spec.steps[0]!, 5)).toBe(MAX_PLAN_BACKOFF_MS);
    });

    it('is refused by the analyser on the step\'s retry.backoffMs; the longest that fits passes', () => {
      const at = (retry: Record<string, number>) => analyzePlan(planDoc([{ id: 'ok' }, { id: 'a', retry }], [])).diagnostics;
      expect(at({ maxAttempts: 10, backoffMs: 3_600_000, factor: 10 })).toEqual([{
        code: 'invalid-params', severity: 'error', nodeId: 'a', path: ['nodes', 1, 'params', 'retry', 'backoffMs'],
        message: 'The last retry would wait 4,166,667 days (backoffMs × factor^8); a step waits at most 2147483647 ms (about 24 days) between attempts: lower backoffMs, factor or maxAttempts',
      }]);
      // 3,600,000 × 2^8 ms is about 11 days: within a timer.
      expect(at({ maxAttempts: 10, backoffMs: 3_600_000, factor: 2 })).toEqual([]);
      expect(at({ maxAttempts: 1, backoffMs: 3_600_000, factor: 10 })).toEqual([]);
    });
  });

  it('an attempt that takes longer than the timeout is aborted and counts as a failure', async () => {
    const p = controllablePort();
    const { done } = start(planDoc([{ id: 'slow', timeoutMs: 100, critical: false }, { id: 'after' }], [['slow', 'after']]), p.port);
    const out = await done;
    expect(p.log).toEqual(['start slow#0', 'abort slow']);
    expect(out.errors).toEqual([{ step: 'slow', message: 'Timed out after 100 ms', critical: false }]);
    // The critical step after it never ran: the plan failed.
    expect(out.status).toBe('failed');
  });

  it('a restored run does not run finished steps again and re-runs the attempt that was in flight', async () => {
    const p = controllablePort(() => 'ok');
    const { done } = start(planDoc([{ id: 'a' }, { id: 'b' }, { id: 'c' }], [['a', 'c'], ['b', 'c']]), p.port, {
      restored: { a: { status: 'done', attempt: 0, output: { from: 'before' } }, b: { status: 'running', attempt: 1 } },
    });
    const out = await done;
    expect(p.log).toEqual(['start b#1', 'start c#0']);
    expect(out.results.a).toEqual({ from: 'before' });
  });

  it('cancel stops running steps and skips waiting ones', async () => {
    const p = controllablePort();
    const { done, actor } = start(planDoc([{ id: 'a' }, { id: 'b' }], [['a', 'b']]), p.port);
    await p.tick();
    actor.send({ type: 'cancel' });
    const out = await done;
    expect(out.status).toBe('cancelled');
    expect(p.log).toEqual(['start a#0', 'abort a']);
  });
});

describe('plan diagnostics', () => {
  const facts: PlanFacts = {
    agent: (id) => ({
      res: { name: 'Researcher', active: true, skills: ['research-contact'], tools: ['getContact', 'searchWeb', 'enrichContact', 'searchEmails', 'memory'] },
      bare: { name: 'Bare', active: true, skills: ['draft-email'], tools: [] },
    } as Record<string, ReturnType<PlanFacts['agent']>>)[id] ?? null,
    skill: (id) => ({ 'research-contact': { name: 'Research Contact', requiredTools: ['getContact'] }, 'draft-email': { name: 'Draft Email', requiredTools: ['getContact', 'createDraft'] } } as Record<string, { name: string; requiredTools: string[] }>)[id] ?? null,
    anyCapable: (skill) => skill === 'research-contact',
  };
  const codes = (doc: unknown, f?: PlanFacts) => analyzePlan(doc, f).diagnostics.map((d) => [d.code, d.nodeId, d.message]);

  it('a cycle is pinned on every step in it', () => {
    expect(codes(planDoc([{ id: 'a' }, { id: 'b' }, { id: 'c' }], [['a', 'b'], ['b', 'a'], ['a', 'c']]))).toEqual([
      ['cycle', 'a', expect.stringContaining('cycle')], ['cycle', 'b', expect.stringContaining('cycle')], ['cycle', 'c', expect.stringContaining('cycle')],
    ]);
  });

  it('references must name an upstream step; names are unique; only plan steps', () => {
    const doc = planDoc([{ id: 'a', params: { x: '{{ steps.b.output }}' } }, { id: 'b' }, { id: 'c', name: 'b' }], [['a', 'b']]);
    expect(codes(doc)).toEqual([
      ['duplicate-id', 'c', 'Two steps are named "b": result names must be unique'],
      ['invalid-expression', 'a', expect.stringContaining('"b" is not upstream of this step')],
    ]);
    expect(codes(planDoc([{ id: 'a', params: { x: '{{ steps.zzz.output }}' } }], []))).toEqual([['invalid-expression', 'a', 'No step is named "zzz"']]);
    const mixed = { ...planDoc([{ id: 'a' }], []), nodes: [...planDoc([{ id: 'a' }], []).nodes, { id: 't', type: 'trigger.manual', params: {} }] };
    expect(codes(mixed)).toEqual([['kind-not-allowed', 't', 'A plan holds only plan steps']]);
  });

  it('agents and skills: unknown skill, unknown agent, agent without the skill or its tools, nobody capable', () => {
    expect(codes(planDoc([
      { id: 'a', skill: 'no-such-skill' }, { id: 'b', agent: 'ghost' }, { id: 'c', agent: 'res', skill: 'draft-email' },
      { id: 'd', agent: 'bare', skill: 'draft-email' }, { id: 'e', skill: 'draft-email' }, { id: 'f', agent: 'res' },
    ], []), facts)).toEqual([
      ['invalid-params', 'a', 'Unknown skill "no-such-skill"'],
      ['invalid-params', 'b', 'No such agent: choose one of your agents'],
      ['invalid-params', 'c', 'Agent "Researcher" does not have the skill "Draft Email"'],
      ['invalid-params', 'd', 'Agent "Bare" may not use getContact, createDraft, which Draft Email needs'],
      ['invalid-params', 'e', 'No capable agent for skill draft-email: no active agent holds Draft Email with the tools it needs'],
    ]);
  });
});
