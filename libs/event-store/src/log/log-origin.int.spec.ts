import { EventStore } from '../store/event-store';
import { creditsGranted, migratedDatabase, type MigratedDatabase } from '../test-support/migrated-database';
import { assertLogBehindCluster, LogFromAnotherClusterError } from './log-origin';

describe('assertLogBehindCluster (real PostgreSQL)', () => {
  let m: MigratedDatabase;

  beforeAll(async () => {
    m = await migratedDatabase('log_origin', 2);
  });
  afterAll(() => m.close());

  it('passes an empty log and one this cluster wrote', async () => {
    await assertLogBehindCluster(m.dataSource);
    await new EventStore(m.dataSource).append('credits-origin-1', 0, [creditsGranted()]);
    await assertLogBehindCluster(m.dataSource);
  });

  it('given a log copied from a cluster further on (ids past this one’s counter), then start-up is refused with what to do', async () => {
    await new EventStore(m.dataSource).append('credits-origin-2', 0, [creditsGranted()]);
    // What a restore from an older, busier cluster leaves: ids this cluster has not handed out yet.
    // (A restore writes rows without the append-only trigger; so does this, its triggers off for the moment.)
    await m.dataSource.transaction(async (tx) => {
      await tx.query(`SET LOCAL session_replication_role = replica`);
      await tx.query(`UPDATE events SET transaction_id = (pg_snapshot_xmax(pg_current_snapshot())::text::bigint + 1000000)::text::xid8 WHERE stream_id = 'credits-origin-2'`);
    });
    const refused = await assertLogBehindCluster(m.dataSource).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(LogFromAnotherClusterError);
    expect((refused as Error).message).toMatch(/copied from another cluster.*pg_resetwal/);
  });
});
