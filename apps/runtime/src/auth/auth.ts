import { createHash, randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { UserSeed } from '../config';
import { UserEntity } from '../entities';

/** Who a request acts as. The token hash never leaves this module. */
export interface AuthUser {
  id: string;
  name: string;
}

/** Tokens are stored as sha256 hex: a leaked database does not leak working tokens. */
export const hashToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

/**
 * Makes the users table match the configuration: creates or re-keys each configured user (ids stay
 * stable across restarts, so their data stays theirs) and revokes users no longer configured.
 */
export async function upsertUsers(em: EntityManager, users: UserSeed[]): Promise<AuthUser[]> {
  recent.clear();
  return em.transactional(async (tx) => {
    // Revoke first, so a token moved from a removed user to a new one does not hit the unique index.
    await tx.execute(
      `update users set token_hash = 'revoked:' || id where name not in (${users.map(() => '?').join(', ')}) and token_hash not like 'revoked:%'`,
      users.map((u) => u.name),
    );
    const out: AuthUser[] = [];
    for (const u of users) {
      const rows = (await tx.execute(
        `insert into users (id, name, token_hash, created_at) values (?, ?, ?, now())
         on conflict (name) do update set token_hash = excluded.token_hash returning id, name`,
        [randomUUID(), u.name, hashToken(u.token)],
      )) as AuthUser[];
      out.push(rows[0]!);
    }
    return out;
  });
}

/** `Authorization: Bearer <token>` -> the token, or null. */
export function bearerToken(header: string | string[] | undefined): string | null {
  const value = Array.isArray(header) ? header[0] : header;
  const m = value ? /^Bearer\s+(\S+)\s*$/i.exec(value) : null;
  return m?.[1] ?? null;
}

/**
 * The user a bearer token belongs to, or null. Looking up the token's hash (instead of comparing
 * tokens) gives the constant-time property: timing depends on the hash, not on a token prefix.
 */
export async function authenticate(em: EntityManager, bearer: string | null | undefined): Promise<AuthUser | null> {
  if (!bearer || bearer.length > 512) return null;
  const hash = hashToken(bearer);
  const cached = recent.get(hash);
  if (cached && cached.until > performance.now()) return cached.user;
  const user = await em.findOne(UserEntity, { tokenHash: hash }, { fields: ['id', 'name'], disableIdentityMap: true });
  if (!user) return null;
  const found = { id: user.id, name: user.name };
  if (recent.size >= RECENT_MAX) recent.delete(recent.keys().next().value!);
  recent.set(hash, { user: found, until: performance.now() + RECENT_MS });
  return found;
}

/**
 * Tokens recently found, so a burst of requests (events posted at a concurrency of 50) does not
 * read the users table once each. Only hits are kept, for a few seconds: an unknown token is
 * looked up every time, and a token revoked by another process's restart stops working within
 * RECENT_MS (one revoked here, by `upsertUsers`, at once).
 */
const RECENT_MS = 5_000;
const RECENT_MAX = 1_000;
const recent = new Map<string, { user: AuthUser; until: number }>();
