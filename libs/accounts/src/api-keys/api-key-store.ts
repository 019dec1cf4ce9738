import { UserId } from '@reelay/contracts';
import type { DataSource } from 'typeorm';
import { API_KEY_PATTERN, generateApiKey, hashApiKey } from './api-key';

/** `full`: every route; `read`: reading only (GET, and job tokens), for dashboards and support tools. */
export type ApiKeyScope = 'full' | 'read';
export const API_KEY_SCOPES: readonly ApiKeyScope[] = ['full', 'read'];

export interface CreatedApiKey {
  /** Shown once; only its hash is stored. */
  key: string;
  /** A handle for the key that is no secret (the start of its hash): what `keys list` shows and `keys revoke --id` takes. */
  id: string;
  userId: string;
  label: string;
  scope: ApiKeyScope;
  /** When the key stops working; null: until it is revoked. */
  expiresAt: string | null;
}

export interface ApiKeyInfo {
  id: string;
  userId: string;
  label: string;
  scope: ApiKeyScope;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

/** Who an active key stands for, and what it may do. */
export interface ApiKeyOwner {
  userId: string;
  scope: ApiKeyScope;
  /** When the key stops working (null: never), so that what it opened (a job stream) ends then too. */
  expiresAt: Date | null;
}

const KEY_ID_LENGTH = 12;
/** What `keys list` shows as a key's id. */
export const API_KEY_ID_PATTERN = new RegExp(`^[0-9a-f]{${KEY_ID_LENGTH}}$`);
const keyIdOf = (keyHash: string) => keyHash.slice(0, KEY_ID_LENGTH);

/** Creates a key for a user (the operator CLI's `keys create`), full by default and without an end. */
export async function createApiKey(
  ds: DataSource,
  userId: string,
  label = '',
  chosenKey?: string,
  options: { scope?: ApiKeyScope; expiresAt?: Date } = {},
): Promise<CreatedApiKey> {
  const user = UserId.parse(userId);
  if (chosenKey !== undefined && !API_KEY_PATTERN.test(chosenKey)) throw new Error('An API key must look like rly_ followed by 32 letters or digits.');
  const scope = options.scope ?? 'full';
  if (!API_KEY_SCOPES.includes(scope)) throw new Error(`A key's scope is one of ${API_KEY_SCOPES.join(', ')}.`);
  const key = chosenKey ?? generateApiKey();
  const expiresAt = options.expiresAt?.toISOString() ?? null;
  const inserted: unknown[] = await ds.query(
    `INSERT INTO api_keys (key_hash, user_id, label, scope, expires_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key_hash) DO NOTHING RETURNING 1`,
    [hashApiKey(key), user, label.slice(0, 200), scope, expiresAt],
  );
  if (inserted.length > 0) return { key, id: keyIdOf(hashApiKey(key)), userId: user, label, scope, expiresAt };
  return existingKey(ds, key, { userId: user, scope, expires: expiresAt !== null });
}

/**
 * Re-creating a chosen key that exists (REELAY_DEMO_KEY on every start) is a no-op when it is the
 * same key: same user, scope and whether it ends. Anything else is refused, never reported as done:
 * the key would go on working as it was (another user's, or with more rights, or revoked).
 */
async function existingKey(ds: DataSource, key: string, wanted: { userId: string; scope: ApiKeyScope; expires: boolean }): Promise<CreatedApiKey> {
  const [row]: { user_id: string; label: string; scope: ApiKeyScope; expires_at: Date | null; revoked_at: Date | null }[] = await ds.query(
    `SELECT user_id, label, scope, expires_at, revoked_at FROM api_keys WHERE key_hash = $1`,
    [hashApiKey(key)],
  );
  if (!row) throw new Error('The key could not be stored: try again.');
  if (row.revoked_at) throw new Error('This key was revoked and cannot be used again: create a new one (leave out --key).');
  if (row.user_id !== wanted.userId || row.scope !== wanted.scope || (row.expires_at !== null) !== wanted.expires) {
    throw new Error('This key exists already with another user, scope or expiry: create a new one (leave out --key).');
  }
  return { key, id: keyIdOf(hashApiKey(key)), userId: row.user_id, label: row.label, scope: row.scope, expiresAt: row.expires_at?.toISOString() ?? null };
}

/** A user's keys, newest first, by id (the key itself is never stored). */
export async function listApiKeys(ds: DataSource, userId: string): Promise<ApiKeyInfo[]> {
  const rows: { key_hash: string; user_id: string; label: string; scope: ApiKeyScope; created_at: Date; expires_at: Date | null; revoked_at: Date | null }[] = await ds.query(
    `SELECT key_hash, user_id, label, scope, created_at, expires_at, revoked_at FROM api_keys WHERE user_id = $1 ORDER BY created_at DESC, key_hash`,
    [userId],
  );
  return rows.map((r) => ({
    id: keyIdOf(r.key_hash), userId: r.user_id, label: r.label, scope: r.scope, createdAt: r.created_at.toISOString(),
    expiresAt: r.expires_at?.toISOString() ?? null, revokedAt: r.revoked_at?.toISOString() ?? null,
  }));
}

/**
 * Revokes keys without their plaintext (shown only at creation): one by its id, or every active
 * key of a user (a leaked key whose owner is known). Returns how many were revoked.
 */
export async function revokeApiKeys(ds: DataSource, which: { id: string } | { userId: string }): Promise<number> {
  if ('id' in which) {
    if (!API_KEY_ID_PATTERN.test(which.id)) throw new Error(`A key id is ${KEY_ID_LENGTH} hexadecimal characters, as keys list shows it.`);
    return revoke(ds, `left(key_hash, ${KEY_ID_LENGTH}) = $1`, which.id);
  }
  return revoke(ds, 'user_id = $1', which.userId);
}

/** Revokes a key; returns whether an active key was found. */
export async function revokeApiKey(ds: DataSource, key: string): Promise<boolean> {
  return (await revoke(ds, 'key_hash = $1', hashApiKey(key))) > 0;
}

/** The revocation as a CTE: TypeORM answers a bare UPDATE with `[rows, count]`, so its length was always 2 (every revoke "succeeded"). */
async function revoke(ds: DataSource, where: string, param: string): Promise<number> {
  const [{ n }]: { n: number }[] = await ds.query(
    `WITH revoked AS (UPDATE api_keys SET revoked_at = now() WHERE ${where} AND revoked_at IS NULL RETURNING 1) SELECT count(*)::int AS n FROM revoked`,
    [param],
  );
  return n;
}

/** The user owning an active key, or null. */
export async function findUserByApiKey(ds: DataSource, key: string): Promise<string | null> {
  return (await findApiKeyOwners(ds, [key]))[0]?.userId ?? null;
}

/** For each key, the user owning it if it is active, else null; one statement for all of them. */
export async function findUsersByApiKeys(ds: DataSource, keys: readonly string[]): Promise<(string | null)[]> {
  return (await findApiKeyOwners(ds, keys)).map((o) => o?.userId ?? null);
}

/** For each key, its owner and scope if it is active (not revoked, not expired), else null; one statement for all of them. */
export async function findApiKeyOwners(ds: DataSource, keys: readonly string[]): Promise<(ApiKeyOwner | null)[]> {
  const hashes = keys.map((k) => (API_KEY_PATTERN.test(k) ? hashApiKey(k) : null));
  const wanted = hashes.filter((h): h is string => h !== null);
  if (wanted.length === 0) return keys.map(() => null);
  const rows: { key_hash: string; user_id: string; scope: ApiKeyScope; expires_at: Date | null }[] = await ds.query(
    `SELECT key_hash, user_id, scope, expires_at FROM api_keys WHERE key_hash = ANY($1::text[]) AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
    [wanted],
  );
  const owners = new Map(rows.map((r): [string, ApiKeyOwner] => [r.key_hash, { userId: r.user_id, scope: r.scope, expiresAt: r.expires_at ? new Date(r.expires_at) : null }]));
  return hashes.map((h) => (h === null ? null : owners.get(h) ?? null));
}
