/*
 * Group commit for the fsync of one directory.
 *
 * A put is durable once its renames are on the device, which takes an fsync of the directory that
 * started after the renames (a sync already running may have begun before them and need not cover
 * them; fsync(2) makes durable what was written before the call). Under load many puts finish
 * their renames into outputs/ at about the same time, and each used to open, sync and close the
 * directory on its own: three trips through libuv's thread pool and an event-loop turn each.
 *
 * Here at most one sync runs and at most one more waits: a request made while a sync runs joins
 * the next one, which starts as soon as the running one ends, and so covers every rename made
 * before it started. This is the group commit of database logs (PostgreSQL's WAL flush serves
 * every backend whose commit record it covers; Gray & Reuter, "Transaction Processing", 9.4.7)
 * applied to a directory. A failed sync fails only the requests it was meant to cover; the next
 * request starts a fresh one.
 */
export class SyncGroup {
  private running: Promise<void> | null = null;
  private next: Promise<void> | null = null;

  constructor(private readonly sync: () => Promise<void>) {}

  /** Resolves once a sync that started after this call has finished. */
  request(): Promise<void> {
    if (this.next) return this.next;
    if (!this.running) return this.start();
    const settled = () => {
      this.next = null;
      return this.start();
    };
    this.next = this.running.then(settled, settled);
    return this.next;
  }

  private start(): Promise<void> {
    const run = this.sync().finally(() => {
      if (this.running === run) this.running = null;
    });
    this.running = run;
    return run;
  }
}
