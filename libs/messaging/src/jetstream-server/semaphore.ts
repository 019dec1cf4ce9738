/** Bounds how many messages one consumer binding processes at once. */
export class Semaphore {
  private free: number;
  private readonly waiters: (() => void)[] = [];
  /** When the work in each taken slot started (see started/finished). */
  private readonly startedAt = new Map<object, number>();

  constructor(private readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`concurrency must be a positive integer, got ${size}`);
    this.free = size;
  }

  /** Notes that the work holding a slot, known by `token`, started at `at`. */
  started(token: object, at = Date.now()): void {
    this.startedAt.set(token, at);
  }

  finished(token: object): void {
    this.startedAt.delete(token);
  }

  /** Every slot is held by work that started before `before` (all of it overdue, say). */
  allHeldSince(before: number): boolean {
    if (this.free > 0 || this.startedAt.size < this.size) return false;
    for (const at of this.startedAt.values()) if (at >= before) return false;
    return true;
  }

  /** Resolves with a slot; rejects, holding none, if `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(new Error('gave up waiting for a slot'));
    return new Promise((resolve, reject) => {
      const waiter = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        reject(new Error('gave up waiting for a slot'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Takes a slot if one is free now. */
  tryAcquire(): boolean {
    if (this.free === 0) return false;
    this.free--;
    return true;
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) return next();
    this.free++;
  }
}
