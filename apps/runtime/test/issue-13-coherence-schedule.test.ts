import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config';
import { COHERENCE_PROBE_KEY, createCoherenceSchedule } from '../src/monitor/coherence-schedule';
import { backendsUnderTest } from './host-support';
import { startAgentsServer, type AgentsServer } from './support/agents-support';

const HOUR = 3_600_000;
// 2026-01-07 01:00 UTC: before the day's 03:00 slot, so the newest slot is the day before's.
const NIGHT = Date.UTC(2026, 0, 7, 1, 0);

describe.each(backendsUnderTest())('the daily memory probe (%s)', (backend) => {
  let s: AgentsServer | undefined;
  afterAll(async () => {
    await s?.stop();
    await s?.storage.drop();
  });

  it('runs once per day slot whatever the number of processes, for every user with agents, and stores its probes', async () => {
    s = await startAgentsServer(backend);
    s.clock.set(NIGHT - 2 * HOUR);
    const mine = await s.api.agents.create.mutate({ name: 'Remembers', tools: ['memory'] });
    await s.api.agents.remember.mutate({ id: mine.id, key: 'favourite-colour', value: 'teal' });
    const theirs = await s.other.agents.create.mutate({ name: 'Theirs', tools: ['memory'] });
    await s.other.agents.remember.mutate({ id: theirs.id, key: 'team', value: { name: 'Platform', size: 7 } });
    s.clock.set(NIGHT);

    // Two processes' schedules on one database: the slot is claimed once.
    const schedule = (instanceId: string) => createCoherenceSchedule({ em: s!.em, agents: () => s!.agents, clock: s!.clock, instanceId, hourUtc: 3 });
    const a = schedule('proc-a');
    const b = schedule('proc-b');
    expect(a.slotOf(NIGHT)).toBe('2026-01-06T03:00:00.000Z');
    const [first, second] = await Promise.all([a.tick(), b.tick()]);
    const ran = [first, second].filter((r) => r !== null);
    expect(ran).toHaveLength(1);
    expect(ran[0]).toEqual({ slot: '2026-01-06T03:00:00.000Z', users: 2, asked: 2 });
    expect(await a.tick()).toBeNull();

    const probes = await s.query<{ user_id: string; fact_key: string; consistent: boolean }>('select user_id, fact_key, consistent from coherence_probes order by fact_key');
    expect(probes.map((p) => [p.fact_key, p.consistent])).toEqual([['favourite-colour', true], ['team', true]]);
    const fires = await s.query<{ claimed_by: string }>('select claimed_by from schedule_fires where trigger_id = ?', [COHERENCE_PROBE_KEY]);
    expect(fires).toHaveLength(1);

    // The next day's slot (03:00) is a new probe, claimed by whichever process gets there first.
    s.clock.set(NIGHT + 3 * HOUR);
    expect(await b.tick()).toEqual({ slot: '2026-01-07T03:00:00.000Z', users: 2, asked: 2 });
    expect(await a.tick()).toBeNull();
    const listed = await s.api.monitor.coherenceProbes.query({});
    expect(listed.filter((p) => p.key === 'favourite-colour')).toHaveLength(2);
  });

  it('is off unless SWITCHYARD_COHERENCE_PROBE_HOUR is an hour of the day; a bad value fails the start with a clear message', () => {
    const base = { SWITCHYARD_TOKEN: 'x'.repeat(24) };
    expect(loadConfig(base).coherenceProbeHour).toBeNull();
    expect(loadConfig({ ...base, SWITCHYARD_COHERENCE_PROBE_HOUR: '3' }).coherenceProbeHour).toBe(3);
    expect(loadConfig({ ...base, SWITCHYARD_COHERENCE_PROBE_HOUR: 'off' }).coherenceProbeHour).toBeNull();
    for (const bad of ['24', '-1', '2.5', 'noon']) {
      expect(() => loadConfig({ ...base, SWITCHYARD_COHERENCE_PROBE_HOUR: bad })).toThrow(/SWITCHYARD_COHERENCE_PROBE_HOUR: must be an hour of the day in UTC/);
    }
  });
});
