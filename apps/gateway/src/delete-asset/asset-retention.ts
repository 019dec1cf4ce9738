import { compareCheckpoints, type LogCheckpoint } from '@reelay/event-store';
import { JOB_VIEW_PROJECTION } from '@reelay/read-models';
import { onOneReplica, Ticker, type Logger } from '@reelay/service-kit';
import type { BlobStorage } from '@reelay/storage';
import type { DataSource } from 'typeorm';
import { jobViewIncomplete, UNFINISHED_IN_JOB_VIEW } from '../jobs/job-view-sql';

type Db = Pick<DataSource, 'query'>;


/*
 * job_view trails the log: a job submitted a moment ago (a regenerate of an old job too) names its
 * image in a JobSubmitted event job_view has not folded yet, and a job validated a moment ago its
 * fitted copy in a JobValidated event (an asset id is made from its owner's id too, so only the
 * owner's jobs can name one: that branch needs no user filter). So "in use" is job_view's unfinished
 * jobs plus the JobSubmitted and JobValidated events after its checkpoint, read in the log reader's order
 * (transaction id, position), which is the order the projection passed them in: every event at or
 * before the checkpoint is in job_view, every later one is read here (its index on
 * (transaction_id, global_position) keeps this a short range scan while the lag is bounded; the
 * checkpoint is passed as values, as the log reader does, so the planner sees the range).
 */
const NOT_YET_IN_JOB_VIEW = `
  SELECT e.data->'referenceImage'->>'assetId' AS asset_id, e.data->>'jobId' AS job_id, e.data->>'userId' AS user_id FROM events e
  WHERE (e.transaction_id, e.global_position) > ($3::xid8, $4::bigint) AND e.type = 'JobSubmitted'
  UNION ALL
  SELECT e.data->'referenceImage'->'fitted'->>'assetId', substr(e.stream_id, length('job-') + 1), NULL FROM events e
  WHERE (e.transaction_id, e.global_position) > ($3::xid8, $4::bigint) AND e.type = 'JobValidated'`;

const JOB_VIEW_CHECKPOINT_SQL = `SELECT transaction_id::text, global_position::text FROM checkpoints WHERE name = $1`;

/*
 * job_view and the checkpoint it is read against must be of one moment. A rebuild (TRUNCATE job_view
 * and the checkpoint reset, one transaction) committed between two statements would show an empty
 * job_view beside the old checkpoint, and every unfinished job submitted before it would seem to
 * name no image. Within one READ COMMITTED statement it cannot: PostgreSQL takes its ACCESS SHARE
 * lock on every table the statement names (at parse analysis, or plan revalidation) before it takes
 * the snapshot the statement runs with (at portal start). A rebuild holding ACCESS EXCLUSIVE on
 * job_view makes the statement wait, then see the rebuild whole; one starting later waits for the
 * statement. (A REPEATABLE READ transaction of two statements would not do: TRUNCATE is not MVCC-safe,
 * so a transaction whose snapshot predates the rebuild's commit but that reads job_view after it sees
 * job_view empty beside the old checkpoint.) So the statement reads the checkpoint itself (cp) and
 * returns it. The checkpoint read just before, in a statement of its own, is passed as values for the
 * planner (with only the CTE's it assumes a third of the log after it and scans the whole log): the
 * statement's own is at or after them, unless a rebuild reset it in between. At or after, the events
 * read are a superset of those job_view lacks; before, imagesInUse asks again from the one it saw.
 */
const IN_USE_SQL = `
  WITH cp AS MATERIALIZED (SELECT c.transaction_id::text, c.global_position::text FROM (SELECT 1) one LEFT JOIN checkpoints c ON c.name = $5)
  SELECT cp.transaction_id, cp.global_position, used.asset_id, used.job_id FROM cp LEFT JOIN (
    SELECT named.asset_id, job_id FROM job_view,
      LATERAL (VALUES (job->'referenceImage'->>'assetId'), (job->'referenceImageFitted'->>'assetId')) AS named(asset_id)
    WHERE ${UNFINISHED_IN_JOB_VIEW} AND named.asset_id = ANY($1) AND ($2::text IS NULL OR user_id = $2)
    UNION ALL
    SELECT t.asset_id, t.job_id FROM (${NOT_YET_IN_JOB_VIEW}) t
    WHERE t.asset_id = ANY($1) AND ($2::text IS NULL OR t.user_id IS NULL OR t.user_id = $2)
  ) used ON true`;

type CheckpointRow = { transaction_id: string | null; global_position: string | null };
const toCheckpoint = (row: CheckpointRow | undefined): LogCheckpoint => ({ transactionId: row?.transaction_id ?? '0', globalPosition: row?.global_position ?? '0' });

/** A round ends after this long (it holds a lock in an idle transaction: see onOneReplica). */
const ROUND_BUDGET_MS = 20_000;
/** Candidates checked against the jobs per query. */
const CHECK_BATCH = 100;

/**
 * Of `assetIds`, those an unfinished job (of `userId` when given) names: as its reference image, or as
 * the copy of it intake fitted to the model (written at validation, so younger than any retention
 * while job_view has not folded it yet); with one such job each.
 */
async function imagesInUse(db: Db, assetIds: string[], userId: string | null = null): Promise<Map<string, string>> {
  let after = toCheckpoint(((await db.query(JOB_VIEW_CHECKPOINT_SQL, [JOB_VIEW_PROJECTION])) as CheckpointRow[])[0]);
  for (;;) {
    const rows: (CheckpointRow & { asset_id: string | null; job_id: string | null })[] = await db.query(IN_USE_SQL, [
      assetIds, userId, after.transactionId, after.globalPosition, JOB_VIEW_PROJECTION,
    ]);
    const seen = toCheckpoint(rows[0]);
    if (compareCheckpoints(seen, after) >= 0) return new Map(rows.flatMap((r) => (r.asset_id && r.job_id ? [[r.asset_id, r.job_id] as const] : [])));
    // Reset (a rebuild) since `after` was read: job_view lacks everything after `seen`.
    after = seen;
  }
}

/** An unfinished job of `userId` that names `assetId`, if any (another user's job cannot read the image anyway). */
export async function jobUsingImage(db: Db, userId: string, assetId: string): Promise<string | null> {
  return (await imagesInUse(db, [assetId], userId)).get(assetId) ?? null;
}

export interface AssetSweepRound {
  removed: number;
  /** The round stopped at its limit or its time budget: more may be due at once. */
  more: boolean;
  /** The round stopped before a batch: job_view is being rebuilt or trails the log too far to tell which images are in use. */
  skipped?: true;
}

/**
 * Removes uploaded images last uploaded more than `retentionMs` ago that no unfinished job names,
 * at most `limit` a round. An upload of the same image rewrites its file, so the file's age is the
 * time since its last upload.
 */
export async function sweepUnusedAssets(deps: { storage: BlobStorage; dataSource: Db }, retentionMs: number, limit = 1000): Promise<AssetSweepRound> {
  const started = Date.now();
  let removed = 0;
  let skipped = false;
  let batch: string[] = [];
  // Checked just before removal, batch by batch, so a job submitted during the round keeps its image;
  // and whether the job list is whole with it, so a rebuild begun during the round stops the round
  // (the lookup would read the log from its start, counting every job ever submitted as unfinished).
  const removeUnused = async () => {
    if (await jobViewIncomplete(deps.dataSource)) {
      skipped = true;
      return false;
    }
    const inUse = await imagesInUse(deps.dataSource, batch.map((key) => key.slice('assets/'.length)));
    for (const key of batch) {
      if (inUse.has(key.slice('assets/'.length))) continue;
      if (removed === limit || Date.now() - started > ROUND_BUDGET_MS) return false;
      // Uploaded again since it was listed: its age starts over.
      if (!(await deps.storage.removeIfOlderThan(key, retentionMs))) continue;
      removed++;
    }
    batch = [];
    return true;
  };
  const stopped = (): AssetSweepRound => (skipped ? { removed, more: false, skipped: true } : { removed, more: true });
  for await (const key of deps.storage.listOlderThan('assets', retentionMs)) {
    batch.push(key);
    if (batch.length === CHECK_BATCH && !(await removeUnused())) return stopped();
  }
  if (batch.length && !(await removeUnused())) return stopped();
  return { removed, more: false };
}

/** Runs sweepUnusedAssets on one gateway replica at a time, every `everyMs`. */
export function startAssetRetention(deps: { storage: BlobStorage; dataSource: DataSource; logger: Logger }, retentionMs: number, everyMs: number): { stop: () => Promise<void> } {
  const ticker = new Ticker({
    round: async () => {
      let more = false;
      await onOneReplica(deps.dataSource, 'gateway-asset-retention', async () => {
        const round = await sweepUnusedAssets(deps, retentionMs);
        more = round.more;
        if (round.removed) deps.logger.info({ removed: round.removed }, 'removed uploaded images past their retention');
        if (round.skipped) deps.logger.warn('asset retention skipped a round: the job list (job_view) trails the log, so it cannot tell which images unfinished jobs need');
      });
      return more;
    },
    intervalMs: everyMs,
    onError: (err) => deps.logger.warn({ err: String(err) }, 'asset retention sweep failed; trying again later'),
  });
  ticker.start();
  return { stop: () => ticker.stop() };
}
