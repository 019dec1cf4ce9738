import { UserId } from '@reelay/contracts';
import type { DataSource } from 'typeorm';
import { API_KEY_PATTERN, generateApiKey, hashApiKey } from './api-key';

export interface CreatedApiKey {
  /** Shown once; only its hash is stored. */
  key: string;
  userId: string;
  label: string;
}

/** Creates a key for a user (the operator CLI's `keys create`). */
export async function createApiKey(ds: DataSource, userId: string, label = '', chosenKey?: string): Promise<CreatedApiKey> {
  const user = UserId.parse(userId);
  if (chosenKey !== undefined && !API_KEY_PATTERN.test(chosenKey)) throw new Error('An API key must look like rly_ followed by 32 letters or digits.');
  const key = chosenKey ?? generateApiKey();
  // Re-creating the same chosen key (e.g. REELAY_DEMO_KEY on every start) is a no-op.
  await ds.query(`INSERT INTO api_keys (key_hash, user_id, label) VALUES ($1, $2, $3) ON CONFLICT (key_hash) DO NOTHING`, [hashApiKey(key), user, label.slice(0, 200)]);
  return { key, userId: user, label };
}

/** Revokes a key; returns whether an active key was found. */
export async function revokeApiKey(ds: DataSource, key: string): Promise<boolean> {
  const rows: unknown[] = await ds.query(`UPDATE api_keys SET revoked_at = now() WHERE key_hash = $1 AND revoked_at IS NULL RETURNING 1`, [hashApiKey(key)]);
  return rows.length > 0;
}

/** The user owning an active key, or null. */
export async function findUserByApiKey(ds: DataSource, key: string): Promise<string | null> {
  return (await findUsersByApiKeys(ds, [key]))[0];
}

/** For each key, the user owning it if it is active, else null; one statement for all of them. */
export async function findUsersByApiKeys(ds: DataSource, keys: readonly string[]): Promise<(string | null)[]> {
  const hashes = keys.map((k) => (API_KEY_PATTERN.test(k) ? hashApiKey(k) : null));
  const wanted = hashes.filter((h): h is string => h !== null);
  if (wanted.length === 0) return keys.map(() => null);
  const rows: { key_hash: string; user_id: string }[] = await ds.query(
    `SELECT key_hash, user_id FROM api_keys WHERE key_hash = ANY($1::text[]) AND revoked_at IS NULL`,
    [wanted],
  );
  const users = new Map(rows.map((r) => [r.key_hash, r.user_id]));
  return hashes.map((h) => (h === null ? null : users.get(h) ?? null));
}
