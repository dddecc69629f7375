import type { ReactNode } from 'react';
import { linkHandler } from '../router';
import { Logo } from './Logo';
import { InboxBadge } from '../crm/InboxBadge';

export type Section = 'flows' | 'agents' | 'monitor' | 'marketplace' | 'inbox' | 'crm';

const NAV: ReadonlyArray<{ id: Section; label: string; href: string; icon: ReactNode }> = [
  {
    id: 'flows',
    label: 'Flows',
    href: '/',
    icon: (
      <svg width="16" height="16" viewBox="0 0 16 16" fill="none" stroke="currentColor" strokeWidth="1.5">
        <rect x="1.5" y="2" width="5" height="4" rx="1" />
        <rect x="9.5" y="10" width="5" height="4" rx="1" />
        <path d="M4 6v2.5a1.5 1.5 0 0 0 1.5 1.5h2A1.5 1.5 0 0 1 9 11.5V12" strokeLinecap="round" />
      </svg>
    ),
  },
  {
    id: 'agents',
    label: 'Agents',
    href: '/agents',
    icon: (
      <svg width="16" height="16" viewBox="0 0 16 16" fill="none" stroke="currentColor" strokeWidth="1.5">
        <rect x="2.5" y="4.5" width="11" height="9" rx="2" />
        <path d="M8 4.5V2M6 9h.01M10 9h.01M6 11.5h4" strokeLinecap="round" />
      </svg>
    ),
  },
  {
    id: 'monitor',
    label: 'Monitor',
    href: '/monitor',
    icon: (
      <svg width="16" height="16" viewBox="0 0 16 16" fill="none" stroke="currentColor" strokeWidth="1.5">
        <path d="M1.5 8.5h3l1.5-4 3 8 1.5-4h4" strokeLinecap="round" strokeLinejoin="round" />
      </svg>
    ),
  },
  {
    id: 'marketplace',
    label: 'Templates',
    href: '/marketplace',
    icon: (
      <svg width="16" height="16" viewBox="0 0 16 16" fill="none" stroke="currentColor" strokeWidth="1.5">
        <path d="M2 6.5 3 2.5h10l1 4M2 6.5h12M2 6.5v7h12v-7M6 13.5V10h4v3.5" strokeLinecap="round" strokeLinejoin="round" />
      </svg>
    ),
  },
  {
    id: 'inbox',
    label: 'Inbox',
    href: '/inbox',
    icon: (
      <svg width="16" height="16" viewBox="0 0 16 16" fill="none" stroke="currentColor" strokeWidth="1.5">
        <path d="M2 9.5 3.5 3h9L14 9.5M2 9.5V13h12V9.5M2 9.5h3.5l1 1.5h3l1-1.5H14" strokeLinecap="round" strokeLinejoin="round" />
      </svg>
    ),
  },
  {
    id: 'crm',
    label: 'Contacts',
    href: '/contacts',
    icon: (
      <svg width="16" height="16" viewBox="0 0 16 16" fill="none" stroke="currentColor" strokeWidth="1.5">
        <circle cx="6" cy="5.5" r="2.5" />
        <path d="M1.5 13.5c.5-2.5 2.3-4 4.5-4s4 1.5 4.5 4M10.5 3.2a2.5 2.5 0 0 1 0 4.6M12.5 9.8c1 .6 1.7 2 2 3.7" strokeLinecap="round" />
      </svg>
    ),
  },
];

/** Header, sidebar and the page area; every signed-in page renders inside it. */
export function AppShell({
  section,
  onSignOut,
  children,
  wide = false,
}: {
  /** The nav entry to mark as current; null on a page outside both (not found). */
  section: Section | null;
  onSignOut: () => void;
  children: ReactNode;
  /** The canvas needs the whole width: the sidebar folds away. */
  wide?: boolean;
}) {
  return (
    <div className={`shell${wide ? ' shell--wide' : ''}`}>
      <header className="shell__header">
        <a className="brand" href="/" onClick={linkHandler('/')}>
          <Logo />
          <span className="brand__name">Switchyard</span>
        </a>
        <div className="shell__header-actions">
          <button type="button" className="button button--ghost" onClick={onSignOut} data-testid="sign-out">
            Sign out
          </button>
        </div>
      </header>
      {wide ? null : (
      <nav className="shell__sidebar" aria-label="Main">
        <ul className="nav">
          {NAV.map((item) => (
            <li key={item.id}>
              <a
                className={`nav__item${item.id === section ? ' nav__item--active' : ''}`}
                href={item.href}
                onClick={linkHandler(item.href)}
                data-testid={`nav-${item.id}`}
                aria-current={item.id === section ? 'page' : undefined}
              >
                <span className="nav__icon" aria-hidden="true">
                  {item.icon}
                </span>
                {item.label}
                {item.id === 'inbox' ? <InboxBadge /> : null}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      )}
      <main className="shell__main">{children}</main>
    </div>
  );
}
