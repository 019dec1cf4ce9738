import type { BlobStorage } from './blob-storage';

export interface AbandonedSweepOptions {
  /** A temporary file untouched this long belongs to a put that will never finish. */
  olderThanMs: number;
  everyMs: number;
  onSwept: (removed: number) => void;
  onError: (err: unknown) => void;
}

/**
 * Sweeps the temporary files of puts cut off by a crash or a kill, once at start and then every
 * `everyMs` (storage that leaves nothing behind is left alone): a kill -9 during a copy leaves its file (up to the output cap) with no owner.
 */
export function sweepAbandonedPeriodically(storage: BlobStorage, prefix: string, opts: AbandonedSweepOptions): { stop: () => Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  if (!storage.sweepAbandoned) return { stop: () => running };
  const sweepAbandoned = storage.sweepAbandoned.bind(storage);
  let busy = false;
  const sweep = () => {
    // A walk of a large directory on slow storage can outlast the interval: sweeps never pile up.
    if (busy) return;
    busy = true;
    running = sweepAbandoned(prefix, opts.olderThanMs)
      .then((removed) => {
        if (removed > 0) opts.onSwept(removed);
      }, opts.onError)
      .finally(() => (busy = false));
  };
  sweep();
  const timer = setInterval(sweep, opts.everyMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
