import type { Client } from 'pg';
import { WriteBatcher } from '@reelay/event-store';
import { openLockSession } from '@reelay/messaging';

/** A job's submit lock, held by this process until released. */
export interface SubmitLease {
  /** False once the lock may have passed to another replica (the lock session ended). */
  readonly held: boolean;
  release(): Promise<void>;
}

/**
 * Before a provider call: with the lock session gone, another replica may be working on the job
 * already. Thrown, the delivery is retried and takes the lock again.
 */
export function assertHeld(lease: SubmitLease, jobId: string): void {
  if (!lease.held) throw new Error(`lost the submit lock of job ${jobId} (its database session ended); not calling the provider`);
}

interface Session {
  client: Client;
  lost: boolean;
  /** Leases taken on this session and not yet released. */
  leases: number;
  /** Takes no new locks; ended once its last lease is released. */
  retired: boolean;
  lose(): void;
}

/**
 * One submit at a time per job, across every dispatch replica.
 *
 * Why: JobValidated can be handled twice at once. JetStream redelivers a message whose ack wait
 * passed without a keep-alive (a NATS outage longer than the ack wait while the handler ran, a
 * handler past `maxHandlerMs`), and the second delivery reads a log the first is still writing: it
 * finds an intent with no answer yet and takes it for a crashed try. Then it submits a second task
 * (where the provider can be searched by our key and the first task is not listed yet), fails the
 * job while the first submit succeeds (elsewhere), or loses the intent race and acks the message,
 * so that if the first process dies next, nothing delivers the job again and it stays `validating`.
 * The event log's version check fences writes, not the provider call between them.
 *
 * How: a session-level advisory lock per job (PostgreSQL docs §13.3.5 "Advisory Locks"),
 * `pg_try_advisory_lock`, on one session of this process's own, held from before the job's state
 * is read until its outcome is recorded. A delivery that finds it taken waits (a delayed nak)
 * rather than acting. Session locks are freed by the server when the session ends, so a replica
 * killed mid-submit leaves nothing behind: the next delivery (after the ack wait) takes the lock
 * at once, with no lease to expire. The session is probed (`openLockSession`), so a holder that
 * vanished without closing its socket is noticed within about 30 s, well inside the ack wait.
 * A session may take one lock several times (PostgreSQL counts them), so deliveries inside this
 * process are kept apart in memory first.
 *
 * If the session ends while a lock is held, the lock is gone and another replica may take it: a
 * lease then reads `held: false`, and the handler stops before calling the provider. Locks and
 * unlocks made at the same time go as one statement each (WriteBatcher), on the one session.
 */
export class SubmitLocks {
  private readonly local = new Set<string>();
  private session: Session | null = null;
  private opening: Promise<Session> | null = null;
  private readonly locks = new WriteBatcher((jobIds: string[]) => this.lockMany(jobIds));
  private readonly unlocks = new WriteBatcher((items: { session: Session; jobId: string }[]) => this.unlockMany(items));

  constructor(
    private readonly databaseUrl: string,
    private readonly applicationName = 'reelay-dispatch-submit-locks',
  ) {}

  /** The job's lock, or null while another delivery (here or at another replica) holds it. */
  async tryLock(jobId: string): Promise<SubmitLease | null> {
    if (this.local.has(jobId)) return null;
    this.local.add(jobId);
    try {
      const taken = await this.locks.submit(jobId);
      if (!taken) {
        this.local.delete(jobId);
        return null;
      }
      return this.lease(jobId, taken);
    } catch (err) {
      this.local.delete(jobId);
      throw err;
    }
  }

  async close(): Promise<void> {
    const session = this.session;
    this.session = null;
    if (session) await session.client.end().catch(() => undefined);
  }

  private lease(jobId: string, session: Session): SubmitLease {
    let released = false;
    session.leases++;
    return {
      get held() {
        return !released && !session.lost;
      },
      release: async () => {
        if (released) return;
        released = true;
        try {
          if (!session.lost && !session.retired) await this.unlocks.submit({ session, jobId });
        } catch {
          // Either the session ended, taking the lock with it, or the unlock failed on a live one
          // (a statement timeout, say), which still holds the lock and would keep every other
          // replica from this job. Ending the session is the one sure way to free it, but not at
          // once: the other leases on it would read lost, and a delivery between its intent and
          // the provider call would leave an unanswered intent behind. So the session is retired
          // (new locks go to a new session) and ends with its last lease.
          this.retire(session);
        } finally {
          this.local.delete(jobId);
          session.leases--;
          if (session.retired && session.leases === 0) session.lose();
        }
      },
    };
  }

  private retire(session: Session): void {
    session.retired = true;
    if (this.session === session) this.session = null;
  }

  /** Answers the session each lock was taken on, or null where another session holds it. */
  private async lockMany(jobIds: string[]): Promise<(Session | null)[]> {
    const session = await this.current();
    try {
      const { rows } = await session.client.query<{ ok: boolean }>(
        `SELECT pg_try_advisory_lock(hashtextextended('reelay.dispatch.submit.' || j, 0)) AS ok
           FROM unnest($1::text[]) WITH ORDINALITY AS t(j, o) ORDER BY o`,
        [jobIds],
      );
      return rows.map((r) => (r.ok ? session : null));
    } catch (err) {
      // Some of these locks may have been taken before the statement failed, and a session keeps
      // them through an error: only ending the session is sure to free them. Not at once, for the
      // reason release() gives: the session is retired and ends with its last lease.
      this.retire(session);
      if (session.leases === 0) session.lose();
      throw err;
    }
  }

  private async unlockMany(items: { session: Session; jobId: string }[]): Promise<void[]> {
    const live = items.filter((i) => i.session === this.session && !i.session.lost);
    if (live.length) {
      await live[0].session.client.query(`SELECT pg_advisory_unlock(hashtextextended('reelay.dispatch.submit.' || j, 0)) FROM unnest($1::text[]) AS j`, [
        live.map((i) => i.jobId),
      ]);
    }
    return items.map(() => undefined);
  }

  private current(): Promise<Session> {
    if (this.session && !this.session.lost && !this.session.retired) return Promise.resolve(this.session);
    const opening = this.opening ?? this.open().finally(() => (this.opening = null));
    this.opening = opening;
    return opening;
  }

  private async open(): Promise<Session> {
    const client = await openLockSession(this.databaseUrl, this.applicationName, 30_000);
    const session: Session = {
      client,
      lost: false,
      leases: 0,
      retired: false,
      lose() {
        if (session.lost) return;
        session.lost = true;
        void client.end().catch(() => undefined);
      },
    };
    client.on('error', () => session.lose());
    client.on('end', () => session.lose());
    this.session = session;
    return session;
  }
}
