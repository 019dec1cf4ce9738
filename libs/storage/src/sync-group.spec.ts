import { SyncGroup } from './sync-group';

/** A sync whose runs end when the test says so. */
function controlledSync() {
  const runs: { resolve: () => void; reject: (e: Error) => void }[] = [];
  const sync = () => new Promise<void>((resolve, reject) => runs.push({ resolve, reject }));
  return { runs, sync };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('SyncGroup', () => {
  it('given no sync running, when one is requested, then it starts at once', async () => {
    const { runs, sync } = controlledSync();
    const done = new SyncGroup(sync).request();
    expect(runs).toHaveLength(1);
    runs[0]!.resolve();
    await expect(done).resolves.toBeUndefined();
  });

  it('given a sync running, when more are requested, then they share one sync that starts after it ends', async () => {
    const { runs, sync } = controlledSync();
    const group = new SyncGroup(sync);
    const first = group.request();
    let laterDone = 0;
    const later = [group.request(), group.request(), group.request()].map((p) => p.then(() => laterDone++));
    expect(runs).toHaveLength(1); // the running one may predate their writes: they wait for the next
    runs[0]!.resolve();
    await first;
    await flush();
    expect(laterDone).toBe(0);
    expect(runs).toHaveLength(2);
    runs[1]!.resolve();
    await Promise.all(later);
    expect(laterDone).toBe(3);
  });

  it('given the running sync fails, then only its requests fail and the next one still runs', async () => {
    const { runs, sync } = controlledSync();
    const group = new SyncGroup(sync);
    const first = group.request();
    const second = group.request();
    runs[0]!.reject(new Error('EIO'));
    await expect(first).rejects.toThrow('EIO');
    await flush();
    expect(runs).toHaveLength(2);
    runs[1]!.resolve();
    await expect(second).resolves.toBeUndefined();
  });

  it('given a sync ended, when one is requested, then a new one runs (no result is reused)', async () => {
    const { runs, sync } = controlledSync();
    const group = new SyncGroup(sync);
    const first = group.request();
    runs[0]!.resolve();
    await first;
    const again = group.request();
    expect(runs).toHaveLength(2);
    runs[1]!.resolve();
    await again;
  });
});
