import { createDataSource, runMigrations } from '@reelay/event-store';
import { createTestDatabase, type TestDatabase } from '@reelay/testing';
import type { DataSource } from 'typeorm';
import { createApiKey, findApiKeyOwners, findUserByApiKey, findUsersByApiKeys, listApiKeys, revokeApiKey, revokeApiKeys } from './api-keys/api-key-store';
import { ACCOUNTS_MIGRATIONS } from './migrations';
import { webhookSecretFor, webhookSigningKey } from './webhook-secret/webhook-secret';

let db: TestDatabase;
let ds: DataSource;

beforeAll(async () => {
  db = await createTestDatabase('accounts');
  ds = createDataSource(db.url, { migrations: ACCOUNTS_MIGRATIONS });
  await ds.initialize();
  await runMigrations(ds);
});
afterAll(async () => {
  await ds?.destroy();
  await db?.drop();
});

describe('api keys', () => {
  it('stores only a hash and finds the user by the key', async () => {
    const { key } = await createApiKey(ds, 'alice', 'laptop');
    expect(key).toMatch(/^rly_[0-9A-Za-z]{32}$/);
    expect(await findUserByApiKey(ds, key)).toBe('alice');
    const rows: { key_hash: string }[] = await ds.query('SELECT key_hash FROM api_keys');
    expect(rows.map((r) => r.key_hash)).not.toContain(key);
  });
  it('accepts a chosen key once and ignores re-creation', async () => {
    const chosen = 'rly_' + 'a'.repeat(32);
    await createApiKey(ds, 'demo', 'demo', chosen);
    await createApiKey(ds, 'demo', 'demo', chosen);
    expect(await findUserByApiKey(ds, chosen)).toBe('demo');
    await expect(createApiKey(ds, 'demo', 'demo', 'short')).rejects.toThrow(/rly_/);
  });
  it('refuses to re-create a chosen key that exists for another user, with another scope or expiry, or revoked, instead of reporting it made', async () => {
    const theirs = 'rly_' + 'b'.repeat(32);
    await createApiKey(ds, 'alice', 'laptop', theirs);
    await expect(createApiKey(ds, 'bob', 'dashboard', theirs, { scope: 'read' })).rejects.toThrow(/exists already/);
    await expect(createApiKey(ds, 'alice', 'laptop', theirs, { scope: 'read' })).rejects.toThrow(/exists already/);
    await expect(createApiKey(ds, 'alice', 'laptop', theirs, { expiresAt: new Date(Date.now() + 86_400_000) })).rejects.toThrow(/exists already/);
    expect(await findApiKeyOwners(ds, [theirs])).toEqual([{ userId: 'alice', scope: 'full', expiresAt: null }]);
    expect(await revokeApiKey(ds, theirs)).toBe(true);
    await expect(createApiKey(ds, 'alice', 'laptop', theirs)).rejects.toThrow(/revoked/);
  });
  it('forgets revoked and unknown keys', async () => {
    const { key } = await createApiKey(ds, 'bob');
    expect(await revokeApiKey(ds, key)).toBe(true);
    expect(await revokeApiKey(ds, key)).toBe(false);
    expect(await revokeApiKey(ds, 'rly_' + 'd'.repeat(32))).toBe(false);
    expect(await findUserByApiKey(ds, key)).toBeNull();
    expect(await findUserByApiKey(ds, 'rly_' + 'b'.repeat(32))).toBeNull();
    expect(await findUserByApiKey(ds, "' OR 1=1 --")).toBeNull();
  });
  it('answers several keys in one call, each with its own user or null, in the order asked', async () => {
    const [carol, dave, revoked] = [await createApiKey(ds, 'carol'), await createApiKey(ds, 'dave'), await createApiKey(ds, 'erin')];
    await revokeApiKey(ds, revoked.key);
    const unknown = 'rly_' + 'c'.repeat(32);
    expect(await findUsersByApiKeys(ds, [dave.key, 'not-a-key', carol.key, revoked.key, unknown, dave.key])).toEqual(['dave', null, 'carol', null, null, 'dave']);
    expect(await findUsersByApiKeys(ds, ['nope'])).toEqual([null]);
    expect(await findUsersByApiKeys(ds, [])).toEqual([]);
  });
  it('lists a user\'s keys by id, never the key, and revokes one by id or all of a user\'s without the plaintext', async () => {
    const laptop = await createApiKey(ds, 'frank', 'laptop');
    const ci = await createApiKey(ds, 'frank', 'ci');
    const other = await createApiKey(ds, 'gina');
    const listed = await listApiKeys(ds, 'frank');
    expect(listed.map((k) => [k.id, k.label, k.revokedAt]).sort()).toEqual([[ci.id, 'ci', null], [laptop.id, 'laptop', null]].sort());
    expect(JSON.stringify(listed)).not.toContain(laptop.key.slice(4));

    expect(await revokeApiKeys(ds, { id: laptop.id })).toBe(1);
    expect(await revokeApiKeys(ds, { id: laptop.id })).toBe(0);
    expect(await findUsersByApiKeys(ds, [laptop.key, ci.key, other.key])).toEqual([null, 'frank', 'gina']);
    expect((await listApiKeys(ds, 'frank')).find((k) => k.id === laptop.id)?.revokedAt).toEqual(expect.any(String));
    await expect(revokeApiKeys(ds, { id: "' OR 1=1 --" })).rejects.toThrow(/12 hexadecimal/);

    expect(await revokeApiKeys(ds, { userId: 'frank' })).toBe(1);
    expect(await findUsersByApiKeys(ds, [ci.key, other.key])).toEqual([null, 'gina']);
  });

  it('finds a key with its scope until it expires, and lists both', async () => {
    const dashboard = await createApiKey(ds, 'hana', 'dashboard', undefined, { scope: 'read', expiresAt: new Date(Date.now() + 3_600_000) });
    const lapsed = await createApiKey(ds, 'hana', 'last quarter', undefined, { expiresAt: new Date(Date.now() - 1000) });
    const plain = await createApiKey(ds, 'hana', 'server');
    expect(await findApiKeyOwners(ds, [dashboard.key, lapsed.key, plain.key])).toEqual([
      { userId: 'hana', scope: 'read', expiresAt: new Date(dashboard.expiresAt!) },
      null,
      { userId: 'hana', scope: 'full', expiresAt: null },
    ]);
    const listed = await listApiKeys(ds, 'hana');
    expect(listed.find((k) => k.id === dashboard.id)).toMatchObject({ scope: 'read', expiresAt: dashboard.expiresAt });
    expect(listed.find((k) => k.id === lapsed.id)).toMatchObject({ scope: 'full', expiresAt: expect.any(String), revokedAt: null });
    await expect(createApiKey(ds, 'hana', '', undefined, { scope: 'admin' as never })).rejects.toThrow(/scope/);
  });
});

describe('webhook secrets', () => {
  it('are stable per user, differ across users and masters, and carry a 32-byte key', () => {
    expect(webhookSecretFor('m', 'u1')).toBe(webhookSecretFor('m', 'u1'));
    expect(webhookSecretFor('m', 'u1')).not.toBe(webhookSecretFor('m', 'u2'));
    expect(webhookSecretFor('m2', 'u1')).not.toBe(webhookSecretFor('m', 'u1'));
    expect(webhookSigningKey(webhookSecretFor('m', 'u1'))).toHaveLength(32);
  });

  it('change with each generation of a rotation, and generation 0 is the secret from before rotations', () => {
    expect(webhookSecretFor('m', 'u1', 0)).toBe(webhookSecretFor('m', 'u1'));
    const generations = [0, 1, 2, 10].map((g) => webhookSecretFor('m', 'u1', g));
    expect(new Set(generations).size).toBe(4);
    expect(webhookSecretFor('m', 'u1', 1)).not.toBe(webhookSecretFor('m', 'u11'));
  });
});
