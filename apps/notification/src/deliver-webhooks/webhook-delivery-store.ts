import { randomUUID } from 'node:crypto';
import type { JobWebhookDeliveries } from '@reelay/contracts';
import type { DataSource } from 'typeorm';
import type { AttemptResult } from './attempt-result';
import { retryDelayMs, type RetryPolicy } from './retry-policy';

export interface NewDelivery {
  jobId: string;
  version: number;
  userId: string;
  url: string;
  eventType: string;
  body: string;
}

export interface ClaimedDelivery extends NewDelivery {
  /** 1 for the first attempt. */
  attempt: number;
  attemptId: string;
  leaseToken: string;
  /**
   * When the lease ends at the latest, on this process's `performance.now()` clock (taken before the
   * claim was sent, so never later than the database's lease_until). Absent outside the schedule (a
   * test send).
   */
  leaseEndsBy?: number;
}

export type DeliveryState = 'delivered' | 'pending' | 'failed' | 'lease_lost';

/*
 * Per-job order without holding a transaction across the HTTP call
 * ----------------------------------------------------------------
 * A delivery is claimable only when it is its job's oldest pending row (no pending row of the same
 * job with a lower version), is due, and carries no live lease. Claiming sets a lease in a short
 * transaction; the HTTP call runs outside any transaction (an open transaction with an xid would
 * hold back every event-log reader, see the event store's read-all); the result is written back
 * only by the lease holder. Since the head stays `pending` while leased, nothing behind it can be
 * claimed, so a job has at most one request in flight and a later status change never overtakes an
 * earlier one. Rows of earlier versions are always inserted no later than the row of a later version
 * (the handler for version v inserts, in one statement, every notice (status change or output
 * deletion) up to v that an earlier
 * handler in this process has not committed: see notifyJobEvent), so a reader that sees row v also
 * sees every earlier row and cannot mistake v for the head.
 * Competing claimers (replicas, the ticker, event handlers) take rows with FOR UPDATE SKIP LOCKED
 * and re-check the lease under the row lock (READ COMMITTED re-evaluates the UPDATE's WHERE on the
 * newest row version: postgresql.org/docs/current/transaction-iso.html#XACT-READ-COMMITTED).
 * A claimer that dies leaves its lease to expire; the next claim retries (at least once, and the
 * stable webhook-id lets receivers drop the duplicate) and marks the dead attempt `interrupted`.
 * A claimer that is only slow (its secrets query or the pool kept it waiting) must not send once its
 * lease may have lapsed: another claimer may by then have sent this version and the next ones, and a
 * late send would reach the receiver after them. So the POST starts only while the lease still has
 * the whole send timeout ahead of it (sendWebhook); a holder's late `finish` can then cost a
 * duplicate of its version, never a reordering.
 *
 * Fairness between users: a claim takes a user's rows only while fewer than `perUser` of that
 * user's deliveries are leased (across replicas: the count is of live leases in the table). One
 * user's receiver that holds every request until the timeout, across many jobs, so fills at most
 * `perUser` slots, and the others' deliveries keep going out instead of queueing behind its backlog:
 * a claim takes each user's first due row before anyone's second (then oldest due first), so a slot
 * freed while slow receivers hold the others goes to a user with fewer under way. Claimers running at the same moment each count the leases before
 * theirs, so the bound can be passed by what they take together, never by more.
 */
const CLAIM_SQL = `
  WITH candidates AS (
    SELECT c.job_id, c.version, c.user_id, c.next_attempt_at FROM webhook_deliveries c
    WHERE c.status = 'pending' AND c.next_attempt_at <= now()
      AND (c.lease_until IS NULL OR c.lease_until < now())
      AND ($1::text IS NULL OR c.job_id = $1)
      AND NOT EXISTS (
        SELECT 1 FROM webhook_deliveries e WHERE e.job_id = c.job_id AND e.version < c.version AND e.status = 'pending')
  ), busy AS (
    SELECT l.user_id, count(*)::int AS n FROM webhook_deliveries l
    WHERE l.status = 'pending' AND l.lease_until IS NOT NULL AND l.lease_until >= now()
      AND l.user_id IN (SELECT candidates.user_id FROM candidates)
    GROUP BY l.user_id
  ), due AS (
    SELECT c.job_id, c.version, c.next_attempt_at,
           coalesce(b.n, 0) + row_number() OVER (PARTITION BY c.user_id ORDER BY c.next_attempt_at, c.job_id, c.version) AS user_slot
    FROM candidates c LEFT JOIN busy b USING (user_id)
  ), picked AS (
    SELECT d.job_id, d.version FROM webhook_deliveries d JOIN due USING (job_id, version)
    WHERE due.user_slot <= $5
      AND d.status = 'pending' AND (d.lease_until IS NULL OR d.lease_until < now())
    ORDER BY due.user_slot, due.next_attempt_at, d.job_id, d.version
    LIMIT $2
    FOR UPDATE OF d SKIP LOCKED
  ), claimed AS (
    UPDATE webhook_deliveries d
    SET lease_token = $3, lease_until = now() + $4::float8 * interval '1 millisecond',
        attempts = d.attempts + 1, last_attempt_at = now(), updated_at = now()
    FROM picked p
    WHERE d.job_id = p.job_id AND d.version = p.version
      AND d.status = 'pending' AND (d.lease_until IS NULL OR d.lease_until < now())
    RETURNING d.job_id, d.version, d.user_id, d.url, d.event_type, d.body, d.attempts
  ), interrupted AS (
    UPDATE webhook_attempts a SET outcome = 'interrupted', error = 'attempt did not finish (process stopped or lease expired)'
    FROM claimed c WHERE a.job_id = c.job_id AND a.version = c.version AND a.outcome = 'in_flight'
  ), started AS (
    INSERT INTO webhook_attempts (job_id, version, attempt)
    SELECT job_id, version, attempts FROM claimed
    RETURNING id::text AS attempt_id, job_id, version
  )
  SELECT c.*, s.attempt_id FROM claimed c JOIN started s USING (job_id, version)
  ORDER BY c.job_id, c.version`;

const FINISH_ATTEMPT_SQL = `
  UPDATE webhook_attempts SET outcome = $2, http_status = $3, error = $4, duration_ms = $5
  WHERE id = $1 AND outcome = 'in_flight'`;

const FORGET_ATTEMPT_SQL = `DELETE FROM webhook_attempts WHERE id = $1 AND outcome = 'in_flight'`;

// Wrapped in a CTE so the driver answers with plain rows (TypeORM returns [rows, count] for a bare UPDATE).
// A retry pushes the job's later notices to the same time (`held`), as `record` does for new ones:
// they cannot go before it anyway, and left due they would be read and passed over by every claim
// for as long as the receiver stays down, across all its jobs.
const FINISH_DELIVERY_SQL = `
  WITH finished AS (
  UPDATE webhook_deliveries SET
    status = $4::text,
    delivered_at = CASE WHEN $4 = 'delivered' THEN now() END,
    failed_at = CASE WHEN $4 = 'failed' THEN now() END,
    next_attempt_at = CASE WHEN $4 = 'pending' THEN now() + $5::float8 * interval '1 millisecond' ELSE next_attempt_at END,
    last_http_status = $6, last_error = $7, attempts = attempts - $8::int,
    lease_token = NULL, lease_until = NULL, updated_at = now()
  WHERE job_id = $1 AND version = $2 AND lease_token = $3
  RETURNING status, next_attempt_at
  ), held AS (
    UPDATE webhook_deliveries l SET next_attempt_at = f.next_attempt_at
    FROM finished f
    WHERE f.status = 'pending' AND l.job_id = $1 AND l.version > $2 AND l.status = 'pending' AND l.next_attempt_at < f.next_attempt_at
  ) SELECT status FROM finished`;

interface ClaimRow {
  job_id: string;
  version: number;
  user_id: string;
  url: string;
  event_type: string;
  body: string;
  attempts: number;
  attempt_id: string;
}

interface DeliveryRow {
  version: number;
  event_type: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  last_http_status: number | null;
  last_error: string | null;
  next_attempt_at: Date | null;
  delivered_at: Date | null;
  failed_at: Date | null;
}

interface AttemptRow {
  version: number;
  attempt: number;
  at: Date;
  outcome: JobWebhookDeliveries['data'][number]['attemptLog'][number]['outcome'];
  http_status: number | null;
  error: string | null;
  duration_ms: number | null;
}

/** Notification's webhook tables: what is to be delivered, leases on it, and every attempt. */
export class WebhookDeliveryStore {
  /** @param perUser deliveries of one user leased at once, across replicas (WEBHOOK_CONCURRENCY_PER_USER). */
  constructor(
    private readonly dataSource: DataSource,
    private readonly perUser: number,
  ) {}

  /**
   * Records notices (status changes, output deletions) to deliver; already recorded ones are left as
   * they are. One behind a notice waiting for its retry is due no sooner than that retry.
   */
  async record(deliveries: NewDelivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    await this.dataSource.query(
      `INSERT INTO webhook_deliveries (job_id, version, user_id, url, event_type, body, next_attempt_at)
       SELECT job_id, version, user_id, url, event_type, body,
              greatest(now(), (SELECT max(e.next_attempt_at) FROM webhook_deliveries e WHERE e.job_id = r.job_id AND e.version < r.version AND e.status = 'pending'))
       FROM jsonb_to_recordset($1::jsonb) AS r(job_id text, version int, user_id text, url text, event_type text, body text)
       ORDER BY version
       ON CONFLICT (job_id, version) DO NOTHING`,
      [JSON.stringify(deliveries.map((d) => ({ job_id: d.jobId, version: d.version, user_id: d.userId, url: d.url, event_type: d.eventType, body: d.body })))],
    );
  }

  /** What a job's endpoint was sent, oldest first, with every try; only for the job's owner (else empty). */
  async list(jobId: string, userId: string): Promise<JobWebhookDeliveries> {
    const [deliveries, attempts]: [DeliveryRow[], AttemptRow[]] = await Promise.all([
      this.dataSource.query(
        `SELECT version, event_type, status, attempts, last_http_status, last_error, next_attempt_at, delivered_at, failed_at
         FROM webhook_deliveries WHERE job_id = $1 AND user_id = $2 ORDER BY version`,
        [jobId, userId],
      ),
      this.dataSource.query(
        `SELECT a.version, a.attempt, a.at, a.outcome, a.http_status, a.error, a.duration_ms FROM webhook_attempts a
         WHERE a.job_id = $1 AND EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.job_id = a.job_id AND d.version = a.version AND d.user_id = $2)
         ORDER BY a.version, a.attempt, a.id`,
        [jobId, userId],
      ),
    ]);
    const iso = (at: Date | null) => (at ? new Date(at).toISOString() : null);
    return {
      object: 'list',
      data: deliveries.map((d) => ({
        version: d.version,
        type: d.event_type,
        status: d.status,
        attempts: d.attempts,
        lastHttpStatus: d.last_http_status,
        lastError: d.last_error,
        nextAttemptAt: d.status === 'pending' ? iso(d.next_attempt_at) : null,
        deliveredAt: iso(d.delivered_at),
        failedAt: iso(d.failed_at),
        attemptLog: attempts
          .filter((a) => a.version === d.version)
          .map((a) => ({ attempt: a.attempt, at: iso(a.at)!, outcome: a.outcome, httpStatus: a.http_status, error: a.error, durationMs: a.duration_ms })),
      })),
    };
  }

  /** Leases up to `limit` due deliveries, each the oldest pending one of its job (see above). */
  async claim(opts: { jobId?: string; limit: number; leaseMs: number }): Promise<ClaimedDelivery[]> {
    const token = randomUUID();
    const leaseEndsBy = performance.now() + opts.leaseMs;
    const rows: ClaimRow[] = await this.dataSource.query(CLAIM_SQL, [opts.jobId ?? null, opts.limit, token, opts.leaseMs, this.perUser]);
    return rows.map((r) => ({
      jobId: r.job_id,
      version: r.version,
      userId: r.user_id,
      url: r.url,
      eventType: r.event_type,
      body: r.body,
      attempt: r.attempts,
      attemptId: r.attempt_id,
      leaseToken: token,
      leaseEndsBy,
    }));
  }

  /**
   * Records the attempt and moves the delivery on: delivered, retried later, or given up. One that
   * was never sent is no attempt: it is forgotten, not counted, and the delivery is tried again
   * after the first retry's delay (its error shows as the last one).
   */
  async finish(claimed: ClaimedDelivery, result: AttemptResult, policy: RetryPolicy): Promise<DeliveryState> {
    const next: Exclude<DeliveryState, 'lease_lost'> =
      result.outcome === 'delivered' ? 'delivered' : !result.notSent && (result.permanent || claimed.attempt >= policy.maxAttempts) ? 'failed' : 'pending';
    return this.dataSource.transaction(async (tx) => {
      if (result.notSent) await tx.query(FORGET_ATTEMPT_SQL, [claimed.attemptId]);
      else await tx.query(FINISH_ATTEMPT_SQL, [claimed.attemptId, result.outcome, result.httpStatus, result.error, Math.round(result.durationMs)]);
      const rows: { status: DeliveryState }[] = await tx.query(FINISH_DELIVERY_SQL, [
        claimed.jobId,
        claimed.version,
        claimed.leaseToken,
        next,
        retryDelayMs(policy, result.notSent ? 1 : claimed.attempt),
        result.httpStatus,
        result.error,
        result.notSent ? 1 : 0,
      ]);
      return rows[0]?.status ?? 'lease_lost';
    });
  }
}
