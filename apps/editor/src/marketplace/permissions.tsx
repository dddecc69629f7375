import { permissionLabel } from '@switchyard/schema';

/** The family of a permission, for its icon: mail, people, tasks, calendar, bell, web, memory, agent. */
function familyOf(p: string): string {
  if (p.startsWith('webhook')) return 'web';
  const head = p.split('.')[0] ?? '';
  return { email: 'mail', contacts: 'people', tasks: 'tasks', calendar: 'calendar', notifications: 'bell', memory: 'memory', agents: 'agent' }[head] ?? 'web';
}

const ICONS: Record<string, string> = {
  mail: 'M2 4h12v8H2zM2 4l6 5 6-5',
  people: 'M5.5 7.5a2 2 0 1 0 0-4 2 2 0 0 0 0 4zM1.5 13c0-2.2 1.8-4 4-4s4 1.8 4 4M11 7a1.6 1.6 0 1 0 0-3.2M12 9.2c1.5.4 2.5 1.8 2.5 3.3',
  tasks: 'M3 4.5l1.2 1.2L6.5 3.5M8.5 5h5M3 10.5l1.2 1.2 2.3-2.2M8.5 11h5',
  calendar: 'M2.5 3.5h11v10h-11zM2.5 6.5h11M5.5 2v3M10.5 2v3',
  bell: 'M4 11V7.5a4 4 0 0 1 8 0V11l1 1.5H3zM6.5 14h3',
  web: 'M8 14A6 6 0 1 0 8 2a6 6 0 0 0 0 12zM2 8h12M8 2c1.7 1.8 2.5 3.8 2.5 6S9.7 12.2 8 14M8 2C6.3 3.8 5.5 5.8 5.5 8s.8 4.2 2.5 6',
  memory: 'M4 2.5h8v11H4zM6 5h4M6 7.5h4M6 10h2',
  agent: 'M2.5 4.5h11v9h-11zM8 4.5V2M6 9h.01M10 9h.01',
};

/** Whether a permission sends or changes something outside the studio (shown in a warning colour). */
export const isWrite = (p: string) => /\.(send|write)$|^webhook/.test(p) && p !== 'tasks.write' && p !== 'memory.write' && p !== 'notifications.write';

/** One icon per family of permissions a template needs, with the permissions in words as a tooltip. */
export function PermissionIcons({ permissions }: { permissions: readonly string[] }) {
  const families = new Map<string, string[]>();
  for (const p of permissions) families.set(familyOf(p), [...(families.get(familyOf(p)) ?? []), p]);
  return (
    <span className="mp-perm-icons" data-testid="permission-icons">
      {[...families].map(([family, ps]) => {
        const words = ps.map(permissionLabel).join('; ');
        return (
          <span key={family} className={`mp-perm-icon${ps.some(isWrite) ? ' mp-perm-icon--write' : ''}`} title={words} aria-label={words} role="img">
            <svg width="14" height="14" viewBox="0 0 16 16" fill="none" stroke="currentColor" strokeWidth="1.4" strokeLinecap="round" strokeLinejoin="round">
              <path d={ICONS[family]} />
            </svg>
          </span>
        );
      })}
    </span>
  );
}

/** The permissions as a list in words, each with its code. */
export function PermissionList({ permissions }: { permissions: readonly string[] }) {
  if (!permissions.length) return <p className="muted">This template needs no permissions.</p>;
  return (
    <ul className="mp-perm-list" data-testid="permission-list">
      {permissions.map((p) => (
        <li key={p} className={isWrite(p) ? 'mp-perm-list__item mp-perm-list__item--write' : 'mp-perm-list__item'}>
          <PermissionIcons permissions={[p]} />
          <span>{permissionLabel(p)}</span>
          <code className="mp-perm-list__code">{p}</code>
        </li>
      ))}
    </ul>
  );
}
