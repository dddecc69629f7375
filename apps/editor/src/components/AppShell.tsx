import type { ReactNode } from 'react';
import { Logo } from './Logo';

export type Section = 'flows';

const NAV: ReadonlyArray<{ id: Section; label: string; icon: ReactNode }> = [
  {
    id: 'flows',
    label: 'Flows',
    icon: (
      <svg width="16" height="16" viewBox="0 0 16 16" fill="none" stroke="currentColor" strokeWidth="1.5">
        <rect x="1.5" y="2" width="5" height="4" rx="1" />
        <rect x="9.5" y="10" width="5" height="4" rx="1" />
        <path d="M4 6v2.5a1.5 1.5 0 0 0 1.5 1.5h2A1.5 1.5 0 0 1 9 11.5V12" strokeLinecap="round" />
      </svg>
    ),
  },
];

/** Header, sidebar and the page area; every signed-in page renders inside it. */
export function AppShell({
  section,
  onSignOut,
  children,
}: {
  section: Section;
  onSignOut: () => void;
  children: ReactNode;
}) {
  return (
    <div className="shell">
      <header className="shell__header">
        <div className="brand">
          <Logo />
          <span className="brand__name">Switchyard</span>
        </div>
        <div className="shell__header-actions">
          <button type="button" className="button button--ghost" onClick={onSignOut} data-testid="sign-out">
            Sign out
          </button>
        </div>
      </header>
      <nav className="shell__sidebar" aria-label="Main">
        <ul className="nav">
          {NAV.map((item) => (
            <li key={item.id}>
              <a
                className={`nav__item${item.id === section ? ' nav__item--active' : ''}`}
                href={`#/${item.id}`}
                aria-current={item.id === section ? 'page' : undefined}
              >
                <span className="nav__icon" aria-hidden="true">
                  {item.icon}
                </span>
                {item.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main className="shell__main">{children}</main>
    </div>
  );
}
