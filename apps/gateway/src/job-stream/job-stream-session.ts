import { isTerminal, Job, jobStreamId, liveJobSubject } from '@reelay/contracts';
import type { EventStore } from '@reelay/event-store';
import { jobDecider, toJobEvent, toPublicJob, type JobState } from '@reelay/job-domain';
import { subscribeLive, type NatsConnection } from '@reelay/messaging';
import type { Logger } from '@reelay/service-kit';
import type { GatewayDeps } from '../gateway-deps';
import { formatJobEvent, HEARTBEAT } from './sse-format';

export interface JobStreamSessionOptions {
  jobId: string;
  /** Last-Event-ID: only versions after it are sent. */
  after: number;
  store: EventStore;
  nc: NatsConnection;
  prefix: string;
  recheckMs: number;
  heartbeatMs: number;
  logger: Logger;
  write: (chunk: string) => void;
  end: () => void;
  /** How each version is shown (a job token's stream leaves fields out); as it is when absent. */
  shown?: (job: Job) => Job;
}

/**
 * One SSE client following one job. Order of work, so that no status change can slip between
 * the replay and the live feed: subscribe to the live subject first, then replay from the log
 * every snapshot after Last-Event-ID, then forward live pushes. A push that is not the next
 * version (a gap: a push was lost or came early) and a timer every `recheckMs` both re-read the log,
 * so the log stays the source of truth and live pushes only make it faster.
 * All steps run one after another on a promise chain; `sent` only grows.
 */
export class JobStreamSession {
  private sent: number;
  private folded: JobState = jobDecider.initialState();
  private foldedVersion = 0;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  /** A re-read of the log is queued and has not started: another would read the same events. */
  private catchUpQueued = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private unsubscribe: () => void = () => undefined;

  constructor(private readonly opts: JobStreamSessionOptions) {
    this.sent = opts.after;
  }

  start(): void {
    const sub = subscribeLive<{ version?: unknown; job?: unknown }>(this.opts.nc, liveJobSubject(this.opts.prefix, this.opts.jobId), (msg) =>
      this.enqueue(() => this.onLive(msg)),
    );
    this.unsubscribe = () => sub.unsubscribe();
    this.queueCatchUp();
    this.timers.push(setInterval(() => this.queueCatchUp(), this.opts.recheckMs));
    this.timers.push(setInterval(() => !this.closed && this.opts.write(HEARTBEAT), this.opts.heartbeatMs));
  }

  /** Stops everything; `endResponse` also ends the HTTP response (false when the client already left). */
  close(endResponse = true): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.unsubscribe();
    if (endResponse) this.opts.end();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private enqueue(step: () => Promise<void> | void): void {
    this.chain = this.chain
      .then(() => (this.closed ? undefined : step()))
      .catch((err: unknown) => this.opts.logger.warn({ err, jobId: this.opts.jobId }, 'job stream step failed; the next re-check retries'));
  }

  /**
   * Queues a re-read of the log unless one is queued already: when reads take longer than the
   * re-check interval (a slow database, many streams), re-reads would otherwise pile up on the chain,
   * each reading what the one before read, and live pushes would wait behind all of them.
   */
  private queueCatchUp(): void {
    if (this.catchUpQueued) return;
    this.catchUpQueued = true;
    this.enqueue(() => {
      this.catchUpQueued = false;
      return this.catchUp();
    });
  }

  private onLive(msg: { version?: unknown; job?: unknown }): Promise<void> | void {
    const job = Job.safeParse(msg.job);
    const version = msg.version;
    if (!job.success || typeof version !== 'number' || job.data.id !== this.opts.jobId) return this.queueCatchUp();
    if (version <= this.sent) return;
    if (version === this.sent + 1) return this.emit(version, job.data);
    return this.queueCatchUp();
  }

  private async catchUp(): Promise<void> {
    const events = await this.opts.store.readStream(jobStreamId(this.opts.jobId), this.foldedVersion + 1);
    let finished: { version: number; job: Job } | null = null;
    for (const recorded of events) {
      if (this.closed) return;
      this.folded = jobDecider.evolve(this.folded, toJobEvent(recorded));
      this.foldedVersion = recorded.streamVersion;
      if (recorded.streamVersion <= this.sent) continue;
      // The stream ends with the first finished version it sends, so a finished job is sent as it is
      // now (e.g. with its video deleted since), not as it was when it finished.
      if (isTerminal(this.folded.status)) finished = { version: recorded.streamVersion, job: toPublicJob(this.folded) };
      else this.emit(recorded.streamVersion, toPublicJob(this.folded));
    }
    if (finished) this.emit(finished.version, finished.job);
    // Resuming after the terminal event itself: nothing more will come (had it not been sent, it was just emitted, which closed).
    if (!this.closed && isTerminal(this.folded.status)) this.close();
  }

  private emit(version: number, job: Job): void {
    if (this.closed) return;
    this.opts.write(formatJobEvent(version, this.opts.shown ? this.opts.shown(job) : job));
    this.sent = version;
    if (isTerminal(job.status)) this.close();
  }
}

/** A session on the gateway's own connections, with its SSE settings. */
export function gatewayJobStream(deps: Pick<GatewayDeps, 'config' | 'store' | 'nc' | 'logger'>, opts: Pick<JobStreamSessionOptions, 'jobId' | 'after' | 'write' | 'end' | 'shown'>): JobStreamSession {
  const { config, store, nc, logger } = deps;
  return new JobStreamSession({ ...opts, store, nc, prefix: config.NATS_PREFIX, recheckMs: config.SSE_RECHECK_MS, heartbeatMs: config.SSE_HEARTBEAT_MS, logger });
}
