import { Ticker } from '@reelay/service-kit';
import { checkJob } from '../check-job/check-job.handler';
import type { PollingDeps, TickerOptions } from '../polling.deps';
import type { CheckSlots, ProviderRoom, ScheduledCheck } from './poll-schedule.repository';

/**
 * The longest a check keeps its claim by renewal. Its own timeouts (status call, download) end a
 * check long before; one still running after this is stuck, and its job is better retaken.
 */
const MAX_RENEWED_MS = 15 * 60_000;

/**
 * Each replica's loop over the durable schedule: every tick it claims as many due checks as it
 * has free slots (bounded concurrency) and runs them. Nothing here is the timer: the due times
 * are rows, so a replica that stops (or crashes) loses no check; its leases just expire.
 *
 * Under a backlog (the last claim filled every free slot) the next round does not wait `tickMs`
 * for its turn: it claims as soon as half the slots are free (or `tickMs` passed, whichever is
 * first). Claims stay batches of about `concurrency / 2` rows instead of one statement per
 * finished check, and slots never sit idle for longer than `tickMs` while due checks wait.
 * A follow or callback that makes a check due now wakes the loop (`onDueNow`): no tick to wait for.
 * A follow can do better: it holds free slots here (`reserve`) while it inserts its rows already
 * claimed, and hands the claims back to run (`fill`), so no claim round is needed at all. Held
 * slots count as taken, so checks never exceed `concurrency`.
 *
 * The leases of running checks are renewed every third of `leaseMs`, so a check may run longer
 * than the lease (a large output copy) while a replica that dies mid-check strands its claims
 * for at most one lease.
 */
export class PollTicker implements CheckSlots {
  /** Checks running here, with the claim each holds and when it started. */
  private readonly running = new Map<Promise<void>, { claim: ScheduledCheck; since: number }>();
  private readonly ticker: Ticker;
  private renewTimer?: NodeJS.Timeout;
  private renewing = false;
  private stopping = false;
  private backlog = false;
  /** Called whenever a check finishes (set while a round waits for free slots). */
  private onFinished: (() => void) | null = null;
  /** Slots held by follow writes in flight. */
  private reserved = 0;
  private readonly unreserved: (() => void)[] = [];

  constructor(
    private readonly deps: PollingDeps,
    private readonly opts: TickerOptions,
  ) {
    this.ticker = new Ticker({
      round: () => this.round(),
      intervalMs: opts.tickMs,
      onError: (err) => deps.logger.error({ err }, 'claiming due checks failed'),
    });
    deps.schedule.onDueNow(() => this.ticker.wake());
    deps.schedule.offerSlots(this);
  }

  get leaseMs(): number {
    return this.opts.leaseMs;
  }

  start(): void {
    this.stopping = false;
    this.ticker.start();
    clearInterval(this.renewTimer);
    this.renewTimer = setInterval(() => void this.renewLeases(), Math.max(10, this.opts.leaseMs / 3));
    this.renewTimer.unref();
  }

  /** Stops claiming, then waits for the checks already running. */
  async stop(): Promise<void> {
    this.stopping = true;
    try {
      await this.ticker.stop();
      // A follow write that held slots before the stop still starts its claims' checks: wait for those too.
      while (this.reserved > 0) await new Promise<void>((resolve) => this.unreserved.push(resolve));
      await Promise.allSettled([...this.running.keys()]);
    } finally {
      if (this.stopping) clearInterval(this.renewTimer); // not the timer of a start() made meanwhile
    }
  }

  /** Extends the lease of every check still running (exposed for tests). */
  async renewLeases(): Promise<void> {
    if (this.renewing || this.running.size === 0) return;
    this.renewing = true;
    try {
      const stuckBefore = Date.now() - MAX_RENEWED_MS;
      const claims = [...this.running.values()].filter((r) => r.since > stuckBefore).map((r) => r.claim);
      const kept = await this.deps.schedule.renewLeases(claims, this.opts.leaseMs);
      const lost = claims.filter((c) => !kept.has(c.jobId));
      if (lost.length) this.deps.logger.warn({ jobIds: lost.map((c) => c.jobId) }, 'lease of a running check was taken over by another replica; its result will be dropped');
    } catch (err) {
      this.deps.logger.warn({ err }, 'renewing the leases of running checks failed; retrying at the next renewal');
    } finally {
      this.renewing = false;
    }
  }

  /** One claim round (exposed for tests); resolves when the claimed checks have been started. */
  async tick(): Promise<number> {
    const free = this.reserve(this.free());
    if (free === 0) return 0;
    let claims: ScheduledCheck[] = [];
    try {
      const room = this.room();
      claims = await this.deps.schedule.claimDue(free, this.opts.leaseMs, room.skip, room);
    } finally {
      this.fill(free, claims);
    }
    return claims.length;
  }

  reserve(wanted: number): number {
    const got = this.stopping ? 0 : Math.max(0, Math.min(wanted, this.free()));
    this.reserved += got;
    return got;
  }

  fill(count: number, claims: ScheduledCheck[]): void {
    this.reserved -= count;
    for (const claim of claims) this.launch(claim);
    if (this.reserved === 0) for (const resolve of this.unreserved.splice(0)) resolve();
    if (count > claims.length) this.onFinished?.();
  }

  /** Resolves when every check started so far has finished. */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running.keys()]);
  }

  /** A tick, sooner under a backlog; true when more may be due now. */
  private async round(): Promise<boolean> {
    if (this.backlog) await this.halfFreeOrTick();
    const free = this.free();
    const claimed = await this.tick();
    if (free > 0) this.backlog = claimed === free;
    return this.backlog;
  }

  /**
   * Providers whose due rows are left for later: those rate-limiting our checks (ProviderPauses), and
   * those with `perProvider` checks running here, so a provider whose calls hang until their timeout
   * cannot fill every slot and hold up the other providers' checks. A claim or a follow starts no
   * more checks of a provider than its room under the cap.
   */
  room(): ProviderRoom {
    const skip = this.deps.pauses.paused();
    const cap = this.opts.perProvider;
    if (!cap || cap >= this.opts.concurrency) return { skip };
    const of = new Map<string, number>();
    for (const { claim } of this.running.values()) of.set(claim.provider, (of.get(claim.provider) ?? cap) - 1);
    for (const [provider, left] of of) if (left <= 0 && !skip.includes(provider)) skip.push(provider);
    return { skip, of, others: cap };
  }

  private free(): number {
    return this.opts.concurrency - this.running.size - this.reserved;
  }

  private halfFreeOrTick(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.onFinished = null;
        resolve();
      };
      const timer = setTimeout(done, this.opts.tickMs);
      this.onFinished = () => {
        if (this.stopping || this.free() >= this.opts.concurrency / 2) done();
      };
      this.onFinished();
    });
  }

  private launch(claim: ScheduledCheck): void {
    const { metrics, logger } = this.deps;
    metrics.checkLateness.observe(claim.latenessMs / 1000);
    const end = metrics.checkSeconds.startTimer({ provider: claim.provider });
    const task: Promise<void> = checkJob(this.deps, claim)
      .then((outcome) => void end({ outcome }))
      .catch((err: unknown) => {
        end({ outcome: 'error' });
        // The lease stays: the row is retried by any replica once it expires.
        logger.error({ err, jobId: claim.jobId }, 'check failed unexpectedly');
      })
      .finally(() => {
        this.running.delete(task);
        this.onFinished?.();
      });
    this.running.set(task, { claim, since: Date.now() });
  }
}
