import { createDataSource, runMigrations } from '@reelay/event-store';
import { createTestDatabase, type TestDatabase } from '@reelay/testing';
import type { DataSource } from 'typeorm';
import { ProviderSlots } from '../capacity/provider-slots';
import { dispatchMigrations } from '../migrations';
import { ProviderCircuit } from './provider-circuit';

describe('ProviderCircuit and ProviderSlots (real PostgreSQL)', () => {
  let db: TestDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase('dispatch_circuit');
    ds = createDataSource(db.url, { poolSize: 8, migrations: dispatchMigrations });
    await ds.initialize();
    await runMigrations(ds);
  });
  afterAll(async () => {
    await ds.destroy();
    await db.drop();
  });

  it('opens after consecutive failures, lets one probe through after the cool-down, closes on success', async () => {
    const circuit = new ProviderCircuit(ds, { threshold: 3, windowMs: 60_000, cooldownMs: 300 });
    expect(await circuit.recordFailure('p1')).toBe(false);
    expect(await circuit.recordFailure('p1')).toBe(false);
    expect(await circuit.allows('p1')).toBe(true);
    expect(await circuit.recordFailure('p1')).toBe(true);
    expect(await circuit.allows('p1')).toBe(false);

    await new Promise((r) => setTimeout(r, 350));
    const probes = await Promise.all([1, 2, 3, 4].map(() => circuit.allows('p1')));
    expect(probes.filter(Boolean)).toHaveLength(1);

    await circuit.recordSuccess('p1');
    expect(await circuit.isOpen('p1')).toBe(false);
    expect(await circuit.allows('p1')).toBe(true);
  });

  it('a success resets the run of failures', async () => {
    const circuit = new ProviderCircuit(ds, { threshold: 2, windowMs: 60_000, cooldownMs: 60_000 });
    await circuit.recordFailure('p2');
    await circuit.recordSuccess('p2');
    expect(await circuit.recordFailure('p2')).toBe(false);
  });

  it('hands out at most the limit of slots to concurrent acquirers, and again after a release', async () => {
    const slots = new ProviderSlots(ds, () => 3);
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => slots.acquire(`job-${i}`, 'p3')));
    expect(results.filter((r) => r.acquired)).toHaveLength(3);
    expect((await slots.inUse()).get('p3')).toBe(3);

    const holder = (await ds.query(`SELECT job_id FROM provider_slots WHERE provider = 'p3' LIMIT 1`))[0].job_id as string;
    expect(await slots.acquire(holder, 'p3')).toEqual({ acquired: true }); // a redelivery keeps its slot
    expect(await slots.release(holder)).toBe('p3');
    expect(await slots.release(holder)).toBeNull();
    expect((await slots.acquire('job-new', 'p3')).acquired).toBe(true);
    expect((await slots.acquire('job-newer', 'p3')).acquired).toBe(false);
  });
});
