import { EventStore } from '../store/event-store';
import { creditsGranted, migratedDatabase, type MigratedDatabase } from '../test-support/migrated-database';
import { LogNotifier } from './log-notifier';

describe('LogNotifier (real PostgreSQL LISTEN/NOTIFY)', () => {
  let m: MigratedDatabase;
  let n = 0;
  const append = () => new EventStore(m.dataSource).append(`credits-notify-${++n}`, 0, [creditsGranted()]);
  const listening = async () =>
    Number(((await m.dataSource.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'`)) as { n: string }[])[0].n);

  beforeAll(async () => {
    m = await migratedDatabase('log_notifier', 4);
  });
  afterAll(() => m.close());

  it('given its connection ended (a PostgreSQL restart, a terminated backend), then it listens again on a new one and commits wake readers again', async () => {
    const notifier = new LogNotifier(m.dataSource);
    await notifier.start();
    try {
      await append();
      expect(await notifier.wait(10_000)).toBe(true);

      await m.dataSource.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %' AND pid <> pg_backend_pid()`);
      for (let i = 0; i < 100 && (await listening()) > 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(await listening()).toBe(0);
      // Readers keep waiting (polling); one of their waits notices and listens again.
      for (let i = 0; i < 100 && (await listening()) === 0; i++) await notifier.wait(50);
      expect(await listening()).toBe(1);

      await append();
      expect(await notifier.wait(10_000)).toBe(true);
    } finally {
      await notifier.stop();
    }
  });
});
