import type { DataSource } from 'typeorm';
import { returnedRows, WriteBatcher } from '@reelay/event-store';

interface SlotRequest {
  jobId: string;
  provider: string;
  limit: number;
  line: LinePlace | null;
}

/**
 * A job's place in a full provider's waiting line: higher `priority` first, then the earlier
 * `since` (its submit time). Null for a job that had its turn and now fails over: not in line.
 */
export interface LinePlace {
  since: Date;
  priority: number;
}

interface SlotRow {
  acquired: boolean;
  in_use: number;
}

export type SlotResult = { acquired: true; inUse: number } | { acquired: false; inUse: number; limit: number };

/**
 * Capacity per provider account, shared by every dispatch replica: a row in `provider_slots` per
 * job that has (or is about to have) a task at the provider. A slot is taken before the intent is
 * recorded and held until the job is terminal — the provider counts a task against its limit
 * until the task finishes, not just while our HTTP call runs.
 *
 * Why an advisory transaction lock: "count, then insert if below the limit" is a check-then-act.
 * Under READ COMMITTED two replicas can both count 2 of 3 and both insert (write skew; a unique
 * key cannot express "at most N rows per provider"). `pg_advisory_xact_lock(hashtext(provider))`
 * serializes acquirers of one provider for the length of the transaction and is released at
 * commit or rollback, also when the backend dies, so a crashed replica never leaks the lock
 * (PostgreSQL docs §13.3.5 "Advisory Locks"; §13.2.1 on why READ COMMITTED allows the race).
 * SERIALIZABLE would also work but fails the loser with 40001 instead of making it wait.
 * The lock, the reads and the insert run inside one function (see its migration), called as one
 * autocommit statement: that statement is the whole transaction, so
 * the lock lasts exactly until its insert commits, in one round trip instead of six. Acquires made
 * at the same time are one statement (`reelay_acquire_provider_slots_in_line`, migration 0007):
 * one lock wait and one commit for all of them, the free slots going to them and to the jobs
 * waiting in the provider's line in line order.
 *
 * On a crash nothing is lost or leaked for long: the row stays while the job may be at the
 * provider (correct: it counts there too); when the job becomes terminal the terminal-event
 * consumer deletes it, and the `SlotSweeper` (a periodic sweep) catches any slot whose release
 * was missed. A job that already holds a slot gets it again on redelivery (the row is per job).
 */
/** Where a page of slots ended (acquired_at as PostgreSQL wrote it, to the microsecond). */
export interface SlotPosition {
  acquiredAt: string;
  jobId: string;
}

export class ProviderSlots {
  private readonly acquires = new WriteBatcher((requests: SlotRequest[]) => this.acquireMany(requests));
  /** Per user, the end of their last take under the fair share (see forUser). */
  private readonly userTurns = new Map<string, Promise<void>>();
  /** Releases made at the same time are one DELETE. */
  private readonly releases = new WriteBatcher((jobIds: string[]) => this.releaseMany(jobIds));

  /**
   * @param perUser slots one user's jobs may hold at once over every provider (0: no such bound).
   * @param lineFreshMs how long a job that stopped asking keeps its place in a waiting line: a few
   *   of its capacity waits (DISPATCH_CAPACITY_WAIT_MS), so that a freed slot is never held long
   *   for a job that will not come back for it.
   */
  constructor(
    private readonly dataSource: DataSource,
    private readonly limitFor: (provider: string) => number,
    private readonly perUser = 0,
    private readonly lineFreshMs = 10_000,
  ) {}

  /**
   * The fair share between users: runs `take` (which takes a slot for `jobId`, or answers null)
   * only while `userId`'s jobs hold fewer than `perUser` slots over every provider and replica, or
   * while `jobId` holds one already (it keeps it), then notes whose job the new slot is. Without it
   * one user's burst of jobs takes every slot and the others' jobs wait behind it. A user's takes
   * run one at a time in this process, so a burst delivered at once cannot pass the bound here;
   * across replicas it is a soft bound (replicas deciding at the same moment may each let one job
   * through, and a crash between the acquire and the note leaves a slot counted for no one).
   * Just `take` without a per-user limit.
   */
  forUser<T>(userId: string, jobId: string, take: () => Promise<T | null>): Promise<T | null> {
    if (this.perUser <= 0) return take();
    const turn = (this.userTurns.get(userId) ?? Promise.resolve()).then(async () => {
      if (!(await this.userMayTake(userId, jobId))) {
        // Held back by its user's share, not by the provider: it must not hold up other users' jobs in line.
        await this.dataSource.query(`DELETE FROM provider_waits WHERE job_id = $1`, [jobId]);
        return null;
      }
      const taken = await take();
      if (taken !== null) await this.dataSource.query(`UPDATE provider_slots SET user_id = $2 WHERE job_id = $1 AND user_id IS DISTINCT FROM $2`, [jobId, userId]);
      return taken;
    });
    const settled = turn.then(() => undefined, () => undefined);
    this.userTurns.set(userId, settled);
    void settled.then(() => this.userTurns.get(userId) === settled && this.userTurns.delete(userId));
    return turn;
  }

  private async userMayTake(userId: string, jobId: string): Promise<boolean> {
    const [row]: { others: number; holds: boolean | null }[] = await this.dataSource.query(
      `SELECT count(*) FILTER (WHERE job_id <> $2)::int AS others, bool_or(job_id = $2) AS holds FROM provider_slots WHERE user_id = $1 OR job_id = $2`,
      [userId, jobId],
    );
    return row.holds === true || row.others < this.perUser;
  }

  /**
   * Must not run inside a caller's transaction: the slot lock would then be held until that one ends.
   * A full provider's freed slots go to the jobs in its waiting line in order (see migration 0007):
   * a job refused here keeps its `line` place until it asks again or stops asking. Without `line`
   * the job is outside the line (it had its turn: a failover), ahead of it and never added to it.
   */
  async acquire(jobId: string, provider: string, line: LinePlace | null = null): Promise<SlotResult> {
    const limit = this.limitFor(provider);
    const row = await this.acquires.submit({ jobId, provider, limit, line });
    return row.acquired ? { acquired: true, inUse: row.in_use } : { acquired: false, inUse: row.in_use, limit };
  }

  private async acquireMany(requests: SlotRequest[]): Promise<SlotRow[]> {
    const rows: (SlotRow & { ord: number })[] = await this.dataSource.query(
      `SELECT ord, acquired, in_use FROM reelay_acquire_provider_slots_in_line($1::text[], $2::text[], $3::int[], $4::timestamptz[], $5::int[], $6::int)`,
      [
        requests.map((r) => r.jobId),
        requests.map((r) => r.provider),
        requests.map((r) => r.limit),
        requests.map((r) => r.line?.since ?? null),
        requests.map((r) => r.line?.priority ?? 0),
        this.lineFreshMs,
      ],
    );
    const byOrd = new Map(rows.map((r) => [Number(r.ord), r]));
    return requests.map((_, i) => byOrd.get(i + 1)!);
  }

  /** The provider whose slot the job held, or null when it held none. */
  release(jobId: string): Promise<string | null> {
    return this.releases.submit(jobId);
  }

  private async releaseMany(jobIds: string[]): Promise<(string | null)[]> {
    const rows = returnedRows<{ job_id: string; provider: string }>(
      await this.dataSource.query(
        `WITH left_line AS (DELETE FROM provider_waits WHERE job_id = ANY($1::text[]))
         DELETE FROM provider_slots WHERE job_id = ANY($1::text[]) RETURNING job_id, provider`,
        [jobIds],
      ),
    );
    const freed = new Map(rows.map((r) => [r.job_id, r.provider]));
    return jobIds.map((id) => freed.get(id) ?? null);
  }

  /**
   * Drops waiting-line rows of jobs that stopped asking long ago (canceled with no release, their
   * deliveries ended): they are not waited for past `lineFreshMs` already, this only keeps the table small.
   */
  async forgetStaleWaits(): Promise<void> {
    await this.dataSource.query(`DELETE FROM provider_waits WHERE seen_at < now() - make_interval(secs => $1::double precision / 1000)`, [Math.max(this.lineFreshMs * 10, 3_600_000)]);
  }

  async inUse(): Promise<Map<string, number>> {
    const rows: { provider: string; n: number }[] = await this.dataSource.query(
      `SELECT provider, count(*)::int AS n FROM provider_slots GROUP BY provider`,
    );
    return new Map(rows.map((r) => [r.provider, r.n]));
  }

  /**
   * Slots held longer than `olderThanMs`, oldest first, after `after` (a page's last slot):
   * candidates for the sweep.
   */
  async heldSince(olderThanMs: number, limit = 500, after?: SlotPosition): Promise<(SlotPosition & { provider: string })[]> {
    const rows: { job_id: string; provider: string; acquired_at: string }[] = await this.dataSource.query(
      `SELECT job_id, provider, acquired_at::text FROM provider_slots
        WHERE acquired_at < now() - make_interval(secs => $1::double precision / 1000)
          AND ($3::timestamptz IS NULL OR (acquired_at, job_id) > ($3::timestamptz, $4::text))
        ORDER BY acquired_at, job_id LIMIT $2`,
      [olderThanMs, limit, after?.acquiredAt ?? null, after?.jobId ?? null],
    );
    return rows.map((r) => ({ jobId: r.job_id, provider: r.provider, acquiredAt: r.acquired_at }));
  }
}
