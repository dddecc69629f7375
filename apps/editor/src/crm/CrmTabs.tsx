import { linkHandler } from '../router';

const TABS = [
  { id: 'contacts', label: 'Contacts', href: '/contacts' },
  { id: 'drafts', label: 'Drafts', href: '/drafts' },
  { id: 'tasks', label: 'Tasks', href: '/tasks' },
  { id: 'follow-ups', label: 'Follow-ups', href: '/follow-ups' },
] as const;
export type CrmTab = (typeof TABS)[number]['id'];

/** The CRM pages' tabs: what runs and agents produced, by kind. */
export function CrmTabs({ current }: { current: CrmTab }) {
  return (
    <nav className="segmented crm-tabs" aria-label="CRM">
      {TABS.map((t) => (
        <a
          key={t.id}
          href={t.href}
          onClick={linkHandler(t.href)}
          className={`segmented__item${t.id === current ? ' segmented__item--active' : ''}`}
          aria-current={t.id === current ? 'page' : undefined}
          data-testid={`crm-tab-${t.id}`}
        >
          {t.label}
        </a>
      ))}
    </nav>
  );
}
