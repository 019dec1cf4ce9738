import { AsyncResource } from 'node:async_hooks';

export interface TickerOptions {
  /** One round of work. Resolving `true` means more is due at once, so the next round starts without waiting. */
  round: () => Promise<boolean | void>;
  /** Pause between rounds, and after a failed round. */
  intervalMs: number;
  /** Told of a round that threw; the ticker carries on after `intervalMs`. */
  onError: (err: unknown) => void;
}

/**
 * A self-rescheduling loop: runs a round, waits, runs the next. Rounds never overlap (the next
 * timer is set only when a round has settled), and `stop()` waits for the round under way.
 */
export class Ticker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;
  private wokenDuringRound = false;

  /**
   * A round runs in the context the ticker was made in. A timer keeps the context of the code that
   * set it, so a wake() from a message handler would otherwise run that round, and every round it
   * schedules after it, as part of that job: its ids in their logs, their spans under its span.
   */
  private readonly runRound: () => void;

  constructor(private readonly opts: TickerOptions) {
    this.runRound = AsyncResource.bind(() => this.round());
  }

  /** Starts with a round right away; a second call does nothing. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Schedules no further round and waits for the one under way, if any. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Runs the next round now instead of after the interval (right after the current one, if one is under way). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.wokenDuringRound = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(this.runRound, delayMs);
  }

  private round(): void {
    this.running = this.opts
      .round()
      .then(
        (more) => (more === true ? 0 : this.opts.intervalMs),
        (err: unknown) => {
          this.opts.onError(err);
          return this.opts.intervalMs;
        },
      )
      .then((next) => {
        this.running = null;
        const woken = this.wokenDuringRound;
        this.wokenDuringRound = false;
        this.schedule(woken ? 0 : next);
      });
  }
}
