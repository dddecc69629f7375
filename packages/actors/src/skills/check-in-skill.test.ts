import { describe, expect, it } from 'vitest';
import { createFakeSkillPorts } from '../testing/fake-skill-ports';
import { writeCheckIn } from './check-in-skill';

const NOW = Date.UTC(2026, 0, 12, 9, 0);
const grace = {
  id: 'c1', name: 'Grace Hopper', email: 'grace@navy.test', company: 'Navy Labs', title: 'Rear Admiral', relationshipStrength: 0.9,
  lastInteractionAt: new Date(NOW - 45 * 86_400_000).toISOString(), tags: [], notes: '',
};

describe('write-check-in', () => {
  it('writes the text of a check-in email (how long it has been, what the agent remembers) and stores or sends nothing', async () => {
    const fake = createFakeSkillPorts({ now: NOW, contacts: [grace] });
    const plain = await writeCheckIn.execute(writeCheckIn.params.parse({ contactId: 'c1' }), fake.context());
    expect(plain.success).toBe(true);
    expect(plain.output).toMatchObject({ contactId: 'c1', to: 'grace@navy.test', subject: 'Catching up — Navy Labs', model: 'offline' });
    const body = (plain.output as { body: string }).body;
    expect(body).toMatch(/^Hi Grace,\n\nIt has been 45 days since we last spoke\. How are things at Navy Labs\?/);
    await fake.ports.memory.remember('research:c1', { findings: ['Navy Labs opened a new compiler team.'] });
    const personal = await writeCheckIn.execute(writeCheckIn.params.parse({ contactId: 'c1', tone: 'professional' }), fake.context());
    expect((personal.output as { body: string }).body).toMatch(/^Dear Grace,\n\nIt has been 45 days since we last spoke\. I saw that Navy Labs opened a new compiler team\./);
    expect(fake.effects).toEqual([]);
    expect(fake.interactions).toEqual([]);
  });

  it('an unknown contact is a failed skill, not an email to nobody', async () => {
    const fake = createFakeSkillPorts({ now: NOW, contacts: [grace] });
    const r = await writeCheckIn.execute(writeCheckIn.params.parse({ contactId: 'nobody' }), fake.context());
    expect(r).toMatchObject({ success: false, error: 'Contact not found' });
  });
});
