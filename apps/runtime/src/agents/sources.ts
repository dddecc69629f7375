import type { EntityManager } from '@mikro-orm/postgresql';
import type { SkillContact, SocialProfile, WebResult } from '@switchyard/actors';
import { SwitchyardError } from '@switchyard/schema';
import { sql } from '../host/db';
import type { Outbound } from '../outbound/outbound';

export interface WebSearchProvider {
  search(userId: string, q: { query: string; limit: number }): Promise<WebResult[]>;
}
export interface SocialProvider {
  enrich(userId: string, q: { contact: SkillContact; providers: string[] }): Promise<SocialProfile[]>;
}

/**
 * Offline web search derived from CRM data: contacts whose name, company, email domain or notes
 * match the query words, as "pages" of their company site. Deterministic, no network.
 */
export function createOfflineWebSearch(em: () => EntityManager): WebSearchProvider {
  return {
    async search(userId, { query, limit }) {
      const words = query.toLowerCase().replace(/["']/g, ' ').split(/\s+/).filter((w) => w.length > 2).slice(0, 8);
      if (!words.length) return [];
      const rows = await sql<{ name: string; email: string; company: string; title: string; notes: string }>(em(),
        `select name, email, company, title, notes from contacts where user_id = ?
         and (${words.map(() => `lower(name || ' ' || company || ' ' || email || ' ' || notes) like ?`).join(' or ')})
         order by relationship_strength desc, name limit ?`,
        [userId, ...words.map((w) => `%${w.replace(/[\\%_]/g, (c) => `\\${c}`)}%`), limit]);
      return rows.map((r) => {
        const domain = r.email.split('@')[1] ?? 'example.com';
        return {
          title: `${r.name}${r.title ? `, ${r.title}` : ''}${r.company ? ` at ${r.company}` : ''}`,
          url: `https://${domain}/team/${encodeURIComponent(r.name.toLowerCase().replace(/\s+/g, '-'))}`,
          snippet: r.notes.slice(0, 200) || `${r.name} works at ${r.company || domain}.`,
        };
      });
    },
  };
}

/**
 * A JSON search endpoint (`GET <url>?q=..&limit=..` answering `{ results: [{ title, url, snippet }] }`)
 * reached only through the outbound guard, so private and loopback targets stay refused.
 */
export function createHttpWebSearch(outbound: Outbound, url: string): WebSearchProvider {
  return {
    async search(_userId, { query, limit }) {
      const target = new URL(url);
      target.searchParams.set('q', query);
      target.searchParams.set('limit', String(limit));
      const res = await outbound.request({ url: target.toString(), method: 'GET', headers: { accept: 'application/json' }, timeoutMs: 10_000 });
      if (res.status >= 400) throw new SwitchyardError('OUTBOUND_FAILED', `Web search answered HTTP ${res.status}`);
      const body = JSON.parse(res.body) as { results?: Partial<WebResult>[] };
      return (body.results ?? []).slice(0, limit).map((r) => ({ title: String(r.title ?? ''), url: String(r.url ?? ''), snippet: String(r.snippet ?? '') }));
    },
  };
}

const SIGNALS: [RegExp, string][] = [
  [/\b(new role|changed jobs?|joined|promoted)\b/i, 'Recently changed roles'],
  [/\bhiring\b/i, 'Hiring'],
  [/\b(speak|talk|conference|keynote)\b/i, 'Speaks at events'],
  [/\b(funding|raised|series [a-d])\b/i, 'Company raised funding'],
];

/** Offline social enrichment from the contact's own CRM data (title, company, tags, notes). */
export function createOfflineSocial(): SocialProvider {
  return {
    async enrich(_userId, { contact, providers }) {
      const text = `${contact.notes} ${contact.tags.join(' ')}`;
      const signals = SIGNALS.filter(([re]) => re.test(text)).map(([, s]) => s);
      const handle = contact.name.toLowerCase().replace(/[^a-z0-9]+/g, '');
      return providers.map((provider) => ({
        provider,
        handle: handle || null,
        headline: provider === 'linkedin' && (contact.title || contact.company) ? `${contact.title || 'Works'}${contact.company ? ` at ${contact.company}` : ''}` : null,
        signals: provider === 'linkedin' ? signals : [],
      }));
    },
  };
}
