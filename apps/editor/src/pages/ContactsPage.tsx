import { useCallback } from 'react';
import { CrmListPage, Strength } from '../crm/CrmListPage';
import { relativeTime, type ContactItem } from '../crm/types';
import { linkHandler } from '../router';
import type { ApiClient } from '../trpc';

/** Contacts: search by name, email or company; a row opens the contact with everything about them. */
export function ContactsPage({ client, onUnauthorized }: { client: ApiClient; onUnauthorized: () => void }) {
  const load = useCallback(
    (search: string, cursor: string | undefined) => client.crm.contacts.list.query({ limit: 50, ...(search ? { search } : {}), ...(cursor ? { cursor } : {}) }),
    [client],
  );
  return (
    <CrmListPage<ContactItem>
      tab="contacts"
      title="Contacts"
      subtitle="The people your workflows, behaviors and agents work with."
      searchLabel="Search name, email or company"
      load={load}
      onUnauthorized={onUnauthorized}
      columns={['Name', 'Company', 'Strength', 'Last interaction', 'Tags']}
      empty={<><h2 className="empty__title">No contacts found</h2><p className="empty__text">Contacts appear here when you add them through the API or a flow creates them.</p></>}
      row={(c) => (
        <tr key={c.id} data-testid="contact-row">
          <td>
            <a className="row-link" href={`/contacts/${c.id}`} onClick={linkHandler(`/contacts/${c.id}`)}>
              {c.name}
            </a>
            <div className="crm-list__sub">{c.email}</div>
          </td>
          <td>{c.company || '—'}</td>
          <td><Strength value={c.relationshipStrength} /></td>
          <td>{relativeTime(c.lastInteractionAt)}</td>
          <td>{c.tags.length ? c.tags.map((t) => <span key={t} className="pill">{t}</span>) : '—'}</td>
        </tr>
      )}
    />
  );
}
