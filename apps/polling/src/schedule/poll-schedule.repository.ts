import { randomUUID } from 'node:crypto';
import type { EventMetadata } from '@reelay/contracts';
import type { DataSource } from 'typeorm';
import { returnedRows as returned, WriteBatcher } from '@reelay/event-store';

/** How often a provider callback may bring a job's check forward (see requestCheck). */
export const CALLBACK_GAP_MS = 5000;
/** `last_status` of a check planned after an error: the provider's backoff, which callbacks keep. */
export const ERROR_STATUS_PREFIX = 'check_error:';
/** The error kind of a check whose provider reported the task done and whose copy of the output failed. */
export const OUTPUT_COPY = 'output_copy';
/** `last_status` after such a check: the copy is tried again. */
export const COPYING_STATUS = `${ERROR_STATUS_PREFIX}${OUTPUT_COPY}`;

export interface ScheduledCheck {
  jobId: string;
  provider: string;
  providerTaskId: string;
  acceptedAt: Date;
  deadlineAt: Date;
  /** The job's own deadline (`cancelAfterSeconds`): checked at, and canceled there if unfinished. */
  cancelAt: Date | null;
  nextCheckAt: Date;
  checksDone: number;
  checkErrors: number;
  /** Fencing token of this claim: later writes only land while the lease is still ours. */
  leaseToken: string;
  /** Database time of the claim; schedule arithmetic uses it so replicas share one clock. */
  claimedAt: Date;
  /** How late the check started (claim time − when the row became claimable: its due time, or a lapsed lease's end), ms. */
  latenessMs: number;
  /**
   * Claimed after another claim's lease lapsed: that check died, or ended the job (its row is left
   * leased for the terminal event's handler to remove) and that handler is late.
   */
  reclaimed: boolean;
  /** The last `JobProgressed` percentage a check wrote (null: none yet, or not known). */
  progress: number | null;
  /** A check already asked for `JobDelayed`. */
  delayedMarked: boolean;
  /** What the last check saw (a provider status, or `error:<kind>`); null before the first. */
  lastStatus: string | null;
  /** The job was canceled while its task may still run: checks only look for the task's end. */
  draining: boolean;
  metadata: EventMetadata;
}

/** The next check planned by a check that leaves the job followed. */
export interface NextCheck {
  nextCheckAt: Date;
  checksDone: number;
  checkErrors: number;
  lastStatus: string;
  progress: number | null;
  delayedMarked: boolean;
  /** Turns the row into a draining one (a draining row stays one). */
  draining?: boolean;
}

export interface NewSchedule {
  jobId: string;
  provider: string;
  providerTaskId: string;
  acceptedAt: Date;
  deadlineAt: Date;
  cancelAt?: Date | null;
  firstCheckAt: Date;
  metadata: EventMetadata;
}

/**
 * A replica's free check slots, offered to follows whose first check is due at once: such a row is
 * written already claimed and its check starts here, without waiting for a claim round.
 */
export interface CheckSlots {
  readonly leaseMs: number;
  /** Holds up to `wanted` free slots for a follow write; returns how many it got. */
  reserve(wanted: number): number;
  /** Ends a reservation of `count` slots, starting the checks of `claims` (at most `count`) in them. */
  fill(count: number, claims: ScheduledCheck[]): void;
  /** Which providers' checks may start here now, and how many. */
  room(): ProviderRoom;
}

/**
 * Providers whose checks are not to start now (`skip`: paused after a 429, or at their cap), and how
 * many more of the others' may (`of` by provider, else `others`; neither: no bound).
 */
export interface ProviderRoom {
  skip: readonly string[];
  of?: ReadonlyMap<string, number>;
  others?: number;
}

/** How many more checks of `provider` may start under `room`. */
export const roomLeft = (room: ProviderRoom, provider: string): number =>
  room.skip.includes(provider) ? 0 : (room.of?.get(provider) ?? room.others ?? Infinity);

interface ClaimedRow {
  job_id: string;
  provider: string;
  provider_task_id: string;
  accepted_at: Date;
  deadline_at: Date;
  cancel_at: Date | null;
  next_check_at: Date;
  checks_done: number;
  check_errors: number;
  lease_token: string;
  claimed_at: Date;
  lateness_ms: string | number;
  reclaimed: boolean;
  progress: number | null;
  delayed_marked: boolean;
  last_status: string | null;
  draining: boolean;
  metadata: EventMetadata;
}

/**
 * Locks the rows whose ids are in `$1` in job id order, for a statement that then writes them
 * (`... IN (SELECT job_id FROM locked)`). Renewals, reschedules and removals touch sets of rows
 * that overlap (a ticker renews the leases of checks whose reschedules are being written); on a
 * large table each statement's plan walks its id array and locks rows in that array's order, so
 * two statements could each hold a row the other waits for, a deadlock PostgreSQL breaks only
 * after deadlock_timeout (1 s) by failing one. Every row the write touches is locked here first,
 * and the sort below the lock makes every such statement take its locks in one global order
 * (https://www.postgresql.org/docs/15/explicit-locking.html#LOCKING-DEADLOCKS). MATERIALIZED keeps
 * the CTE a separate step rather than folded into the write's plan. Claims need no part in this:
 * they skip locked rows instead of waiting (SKIP LOCKED).
 */
/** What a claim hands its check: the row and how late the claim came. */
const claimedColumns = (t: string, lapsedLease = 'NULL::timestamptz') =>
  `${t}.job_id, ${t}.provider, ${t}.provider_task_id, ${t}.accepted_at, ${t}.deadline_at, ${t}.cancel_at, ${t}.next_check_at,
   ${t}.checks_done, ${t}.check_errors, ${t}.lease_token, ${t}.claimed_at, ${t}.metadata, ${t}.progress, ${t}.delayed_marked, ${t}.last_status, ${t}.draining,
   ${lapsedLease} IS NOT NULL AS reclaimed,
   extract(epoch FROM (now() - GREATEST(${t}.next_check_at, coalesce(${lapsedLease}, ${t}.next_check_at)))) * 1000 AS lateness_ms`;

const LOCK_IN_KEY_ORDER = `WITH locked AS MATERIALIZED (SELECT job_id FROM poll_schedule WHERE job_id = ANY($1::text[]) ORDER BY job_id FOR UPDATE)`;

/**
 * SQL over `poll_schedule`, the durable timers of polling (no timer lives only in memory).
 * Follows, reschedules and removals made concurrently are written a batch per statement
 * (WriteBatcher); each caller still gets its own row's answer.
 */
export class PollScheduleRepository {
  private readonly follows = new WriteBatcher((rows: NewSchedule[]) => this.followMany(rows));
  private readonly reschedules = new WriteBatcher((rows: { claim: ScheduledCheck; next: NextCheck }[]) => this.rescheduleMany(rows));
  private readonly removals = new WriteBatcher((jobIds: string[]) => this.removeMany(jobIds));

  private readonly dueListeners: (() => void)[] = [];
  private slots: CheckSlots | null = null;

  constructor(private readonly db: Pick<DataSource, 'query'>) {}

  /**
   * `listener` runs when a write here made a check due now (a follow whose first check is due, a
   * provider callback), so the ticker claims it at once instead of at its next tick.
   */
  onDueNow(listener: () => void): void {
    this.dueListeners.push(listener);
  }

  private dueNow(): void {
    for (const listener of this.dueListeners) listener();
  }

  /**
   * The replica's free check slots (its ticker): a follow whose first check is due now claims one
   * as it inserts the row, so the check starts without a claim round (one statement and a wake-up
   * less per job).
   */
  offerSlots(slots: CheckSlots): void {
    this.slots = slots;
  }

  /** Idempotent: a redelivered JobProviderAccepted leaves an existing row (and its progress) alone. */
  async follow(s: NewSchedule): Promise<void> {
    await this.follows.submit(s);
  }

  async followMany(rows: NewSchedule[]): Promise<void[]> {
    const now = Date.now();
    const due = rows.filter((r) => r.firstCheckAt.getTime() <= now);
    const slots = due.length ? this.slots : null;
    const room = slots?.room() ?? { skip: [] };
    const taken = new Map<string, number>();
    const claimable = due.filter((r) => {
      const n = taken.get(r.provider) ?? 0;
      if (n >= roomLeft(room, r.provider)) return false;
      taken.set(r.provider, n + 1);
      return true;
    });
    const reserved = slots?.reserve(claimable.length) ?? 0;
    const claiming = new Set(claimable.slice(0, reserved).map((r) => r.jobId));
    const token = randomUUID();
    let claims: ScheduledCheck[] = [];
    try {
      const inserted = returned<ClaimedRow>(await this.db.query(
        `INSERT INTO poll_schedule AS s (job_id, provider, provider_task_id, accepted_at, deadline_at, cancel_at, next_check_at, metadata, lease_token, lease_until, claimed_at)
         SELECT job_id, provider, provider_task_id, accepted_at, deadline_at, cancel_at, next_check_at, metadata::jsonb,
                CASE WHEN claim THEN $8::uuid END,
                CASE WHEN claim THEN now() + make_interval(secs => $9::double precision / 1000) END,
                CASE WHEN claim THEN now() END
           FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::timestamptz[], $7::text[], $10::boolean[], $11::timestamptz[])
                AS u(job_id, provider, provider_task_id, accepted_at, deadline_at, next_check_at, metadata, claim, cancel_at)
         ON CONFLICT (job_id) DO NOTHING
         RETURNING ${claimedColumns('s')}`,
        [
          rows.map((s) => s.jobId),
          rows.map((s) => s.provider),
          rows.map((s) => s.providerTaskId),
          rows.map((s) => s.acceptedAt),
          rows.map((s) => s.deadlineAt),
          rows.map((s) => s.firstCheckAt),
          rows.map((s) => JSON.stringify(s.metadata)),
          token,
          slots?.leaseMs ?? 0,
          rows.map((s) => claiming.has(s.jobId)),
          rows.map((s) => s.cancelAt ?? null),
        ],
      ));
      claims = inserted.filter((r) => r.lease_token === token).map(toScheduledCheck);
    } finally {
      slots?.fill(reserved, claims);
    }
    // Due rows this write could not claim (no free slot, or a row that was already there) wait for a claim round.
    if (due.length > claims.length) this.dueNow();
    return rows.map(() => undefined);
  }

  /**
   * Claims up to `limit` due checks for this replica.
   *
   * Two mechanisms, for two different failures:
   * - `FOR UPDATE SKIP LOCKED` in the sub-select lets replicas claim at the same moment without
   *   blocking on, or double-claiming, the same rows: a row locked by a concurrent claim is skipped,
   *   not waited for (the job-queue pattern of PostgreSQL 9.5+, see the SKIP LOCKED notes in
   *   https://www.postgresql.org/docs/15/sql-select.html#SQL-FOR-UPDATE-SHARE and
   *   https://www.2ndquadrant.com/en/blog/what-is-select-skip-locked-for-in-postgresql-9-5/).
   *   The row lock lasts only for this one statement.
   * - The lease (`lease_until`) is what keeps the row ours while the check runs, outside any
   *   transaction (we must not hold a transaction open across provider HTTP calls). A replica that
   *   dies mid-check never releases it; once `lease_until` passes, the row is due again and any
   *   replica claims it, so the crash costs at most one lease period. The new `lease_token` fences
   *   the old holder: if it was only slow, not dead, its late `reschedule` matches no row
   *   and is dropped (cf. Kleppmann, "How to do distributed locking", fencing tokens). What it may
   *   already have appended to the job's stream is safe: appends are version-checked and the job
   *   decider turns repeated outcomes into no events.
   * All times are the database's `now()`, so replicas with skewed clocks still agree on leases.
   */
  async claimDue(limit: number, leaseMs: number, skipProviders: readonly string[] = [], room: Omit<ProviderRoom, 'skip'> = {}): Promise<ScheduledCheck[]> {
    if (limit <= 0) return [];
    // `room`: at most that many rows of a provider (`of`, else `others`); the rest of the locked rows
    // stay due, their row locks gone at the statement's end. The window runs over the locked rows,
    // after SKIP LOCKED, since FOR UPDATE cannot be in a query with a window function.
    const rows = returned<ClaimedRow>(await this.db.query(
      `WITH d AS MATERIALIZED (
              SELECT job_id, provider, next_check_at, lease_until AS lapsed_lease FROM poll_schedule
               WHERE next_check_at <= now() AND (lease_until IS NULL OR lease_until < now())
                 AND NOT (provider = ANY($4::text[]))
               ORDER BY next_check_at
               LIMIT $1
               FOR UPDATE SKIP LOCKED),
            ranked AS (SELECT d.*, row_number() OVER (PARTITION BY provider ORDER BY next_check_at) AS nth FROM d)
       UPDATE poll_schedule s
          SET lease_token = $3, lease_until = now() + make_interval(secs => $2::double precision / 1000),
              claimed_at = now(), updated_at = now()
         FROM ranked d
         LEFT JOIN unnest($5::text[], $6::int[]) AS r(provider, room) ON r.provider = d.provider
        WHERE s.job_id = d.job_id AND d.nth <= coalesce(r.room, $7)
        RETURNING ${claimedColumns('s', 'd.lapsed_lease')}`,
      [limit, leaseMs, randomUUID(), skipProviders, [...(room.of?.keys() ?? [])], [...(room.of?.values() ?? [])], room.others ?? limit],
    ));
    return rows.map(toScheduledCheck);
  }

  /**
   * Extends the leases of checks still running here, each only under its own token (a fenced-off
   * claim stays lost). Returns the job ids whose lease was extended.
   */
  async renewLeases(claims: readonly Pick<ScheduledCheck, 'jobId' | 'leaseToken'>[], leaseMs: number): Promise<Set<string>> {
    if (claims.length === 0) return new Set();
    const rows = returned<{ job_id: string }>(await this.db.query(
      `${LOCK_IN_KEY_ORDER}
       UPDATE poll_schedule s
          SET lease_until = now() + make_interval(secs => $3::double precision / 1000)
         FROM unnest($1::text[], $2::uuid[]) AS u(job_id, lease_token)
        WHERE s.job_id = u.job_id AND s.lease_token = u.lease_token AND s.job_id IN (SELECT job_id FROM locked)
        RETURNING s.job_id`,
      [claims.map((c) => c.jobId), claims.map((c) => c.leaseToken), leaseMs],
    ));
    return new Set(rows.map((r) => r.job_id));
  }

  /**
   * Plans the next check and gives the lease back; false when the lease was lost (another claim
   * fenced this one off) and nothing was written. A callback that arrived while the check ran wins
   * over the plan: the check it asked for happens now (`check_requested_at` after our claim), or at
   * the end of the callback gap when it came inside the gap after another (`callback_seen_at` after
   * our claim), as requestCheck would have planned it. A provider backoff the check plans stays.
   */
  reschedule(claim: ScheduledCheck, next: NextCheck): Promise<boolean> {
    return this.reschedules.submit({ claim, next });
  }

  /** `reschedule` for many claims in one statement; each row is written only under its own lease token. */
  async rescheduleMany(rows: { claim: ScheduledCheck; next: NextCheck }[]): Promise<boolean[]> {
    const written = returned<{ job_id: string; lease_token: string }>(await this.db.query(
      `${LOCK_IN_KEY_ORDER}
       UPDATE poll_schedule s
          SET next_check_at = CASE WHEN starts_with(u.last_status, '${ERROR_STATUS_PREFIX}') THEN u.next_check_at
                                   WHEN s.check_requested_at > s.claimed_at THEN now()
                                   WHEN s.callback_seen_at > s.claimed_at
                                     THEN LEAST(u.next_check_at, GREATEST(now(), s.check_requested_at + make_interval(secs => $10::double precision / 1000)))
                                   ELSE u.next_check_at END,
              checks_done = u.checks_done, check_errors = u.check_errors, last_status = u.last_status,
              progress = u.progress, delayed_marked = u.delayed_marked, draining = s.draining OR u.draining,
              lease_token = NULL, lease_until = NULL, updated_at = now()
         FROM unnest($1::text[], $2::uuid[], $3::timestamptz[], $4::int[], $5::int[], $6::text[], $7::int[], $8::boolean[], $9::boolean[])
              AS u(job_id, lease_token, next_check_at, checks_done, check_errors, last_status, progress, delayed_marked, draining)
        WHERE s.job_id = u.job_id AND s.lease_token = u.lease_token AND s.job_id IN (SELECT job_id FROM locked)
        RETURNING s.job_id, u.lease_token`,
      [
        rows.map((r) => r.claim.jobId),
        rows.map((r) => r.claim.leaseToken),
        rows.map((r) => r.next.nextCheckAt),
        rows.map((r) => r.next.checksDone),
        rows.map((r) => r.next.checkErrors),
        rows.map((r) => r.next.lastStatus),
        rows.map((r) => r.next.progress),
        rows.map((r) => r.next.delayedMarked),
        rows.map((r) => r.next.draining ?? false),
        CALLBACK_GAP_MS,
      ],
    ));
    const kept = new Set(written.map((w) => `${w.job_id} ${w.lease_token}`));
    return rows.map((r) => kept.has(`${r.claim.jobId} ${r.claim.leaseToken}`));
  }

  remove(jobId: string): Promise<void> {
    return this.removals.submit(jobId);
  }

  async removeMany(jobIds: string[]): Promise<void[]> {
    await this.db.query(`${LOCK_IN_KEY_ORDER} DELETE FROM poll_schedule WHERE job_id IN (SELECT job_id FROM locked)`, [jobIds]);
    return jobIds.map(() => undefined);
  }

  /**
   * The job was canceled while its provider task may go on: keep (or, when the follow never wrote
   * one, add) its row as a draining one. A check holding the row's lease now is not disturbed; the
   * draining flag survives its reschedule.
   */
  async drain(s: NewSchedule): Promise<void> {
    await this.db.query(
      `INSERT INTO poll_schedule AS s (job_id, provider, provider_task_id, accepted_at, deadline_at, next_check_at, metadata, draining)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, true)
       ON CONFLICT (job_id) DO UPDATE SET draining = true, updated_at = now()`,
      [s.jobId, s.provider, s.providerTaskId, s.acceptedAt, s.deadlineAt, s.firstCheckAt, JSON.stringify(s.metadata)],
    );
    if (s.firstCheckAt.getTime() <= Date.now()) this.dueNow();
  }

  /**
   * A provider callback named this task: check it soon. Returns whether we follow that task.
   *
   * Some providers do not sign their callbacks, so anyone who learns a task id can send them: a
   * callback is only a hint to check (never taken as the outcome), and the hints are paced. One
   * brings the check forward to now at most once per CALLBACK_GAP_MS; another inside that gap
   * brings it forward to the gap's end (deferred, not dropped: Luma calls back on each state
   * change, seconds apart). A check waiting out the provider's backoff (a 429, a 5xx) keeps it.
   */
  async requestCheck(provider: string, providerTaskId: string): Promise<boolean> {
    const rows = returned<{ job_id: string; at: Date }>(await this.db.query(
      `UPDATE poll_schedule SET
              next_check_at = CASE WHEN starts_with(coalesce(last_status, ''), '${ERROR_STATUS_PREFIX}') THEN next_check_at
                                   ELSE LEAST(next_check_at, GREATEST(now(), check_requested_at + make_interval(secs => $3::double precision / 1000))) END,
              check_requested_at = CASE WHEN check_requested_at > now() - make_interval(secs => $3::double precision / 1000) THEN check_requested_at ELSE now() END,
              callback_seen_at = now(), updated_at = now()
        WHERE provider = $1 AND provider_task_id = $2
        RETURNING job_id, next_check_at AS at`,
      [provider, providerTaskId, CALLBACK_GAP_MS],
    ));
    if (rows.some((r) => new Date(r.at).getTime() <= Date.now())) this.dueNow();
    return rows.length > 0;
  }

  async find(jobId: string): Promise<{ provider: string; providerTaskId: string; nextCheckAt: Date; checksDone: number; lastStatus: string | null } | null> {
    const rows: { provider: string; provider_task_id: string; next_check_at: Date; checks_done: number; last_status: string | null }[] = await this.db.query(
      `SELECT provider, provider_task_id, next_check_at, checks_done, last_status FROM poll_schedule WHERE job_id = $1`,
      [jobId],
    );
    const r = rows[0];
    return r ? { provider: r.provider, providerTaskId: r.provider_task_id, nextCheckAt: new Date(r.next_check_at), checksDone: r.checks_done, lastStatus: r.last_status } : null;
  }

  /**
   * Jobs the job list (`job_view`) has shown running or delayed for at least `minAgeMs` that have no
   * schedule row: candidates for the follow sweep, oldest first. The list is only where to look; the
   * log decides (a job that ended since, and the list has not caught up, is left alone).
   */
  async unfollowed(minAgeMs: number, limit: number): Promise<string[]> {
    const rows: { job_id: string }[] = await this.db.query(
      `SELECT v.job_id FROM job_view v
        WHERE v.status IN ('running', 'delayed')
          AND v.updated_at < now() - make_interval(secs => $1::double precision / 1000)
          AND NOT EXISTS (SELECT 1 FROM poll_schedule s WHERE s.job_id = v.job_id)
        ORDER BY v.updated_at LIMIT $2`,
      [minAgeMs, limit],
    );
    return rows.map((r) => r.job_id);
  }

  async count(): Promise<number> {
    const rows: { n: string }[] = await this.db.query(`SELECT count(*) AS n FROM poll_schedule`);
    return Number(rows[0]?.n ?? 0);
  }
}

function toScheduledCheck(r: ClaimedRow): ScheduledCheck {
  return {
    jobId: r.job_id,
    provider: r.provider,
    providerTaskId: r.provider_task_id,
    acceptedAt: new Date(r.accepted_at),
    deadlineAt: new Date(r.deadline_at),
    cancelAt: r.cancel_at ? new Date(r.cancel_at) : null,
    nextCheckAt: new Date(r.next_check_at),
    checksDone: r.checks_done,
    checkErrors: r.check_errors,
    leaseToken: r.lease_token,
    claimedAt: new Date(r.claimed_at),
    latenessMs: Math.max(0, Number(r.lateness_ms)),
    reclaimed: r.reclaimed === true,
    progress: r.progress,
    delayedMarked: r.delayed_marked,
    lastStatus: r.last_status ?? null,
    draining: r.draining ?? false,
    metadata: r.metadata ?? {},
  };
}
