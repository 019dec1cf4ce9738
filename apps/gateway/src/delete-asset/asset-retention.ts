import { JOB_VIEW_PROJECTION } from '@reelay/read-models';
import { onOneReplica, Ticker, type Logger } from '@reelay/service-kit';
import type { BlobStorage } from '@reelay/storage';
import type { DataSource } from 'typeorm';
import { jobViewTooFarBehind, UNFINISHED_IN_JOB_VIEW } from '../jobs/job-view-sql';

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

/**
 * Of `assetIds`, those an unfinished job (of `userId` when given) names: as its reference image, or as
 * the copy of it intake fitted to the model (written at validation, so younger than any retention
 * while job_view has not folded it yet).
 */
const IN_USE_SQL = `
  SELECT named.asset_id, job_id FROM job_view,
    LATERAL (VALUES (job->'referenceImage'->>'assetId'), (job->'referenceImageFitted'->>'assetId')) AS named(asset_id)
  WHERE ${UNFINISHED_IN_JOB_VIEW} AND named.asset_id = ANY($1) AND ($2::text IS NULL OR user_id = $2)
  UNION ALL
  SELECT t.asset_id, t.job_id FROM (${NOT_YET_IN_JOB_VIEW}) t
  WHERE t.asset_id = ANY($1) AND ($2::text IS NULL OR t.user_id IS NULL OR t.user_id = $2)`;

/** A round ends after this long (it holds a lock in an idle transaction: see onOneReplica). */
const ROUND_BUDGET_MS = 20_000;
/** Candidates checked against the jobs per query. */
const CHECK_BATCH = 100;

/** Of `assetIds`, each one an unfinished job names (of `userId` only, when given), with one such job. */
async function imagesInUse(db: Db, assetIds: string[], userId: string | null = null): Promise<Map<string, string>> {
  const [checkpoint] = (await db.query(JOB_VIEW_CHECKPOINT_SQL, [JOB_VIEW_PROJECTION])) as { transaction_id: string; global_position: string }[];
  const rows: { asset_id: string; job_id: string }[] = await db.query(IN_USE_SQL, [assetIds, userId, checkpoint?.transaction_id ?? '0', checkpoint?.global_position ?? '0']);
  return new Map(rows.map((r) => [r.asset_id, r.job_id]));
}

/** An unfinished job of `userId` that names `assetId`, if any (another user's job cannot read the image anyway). */
export async function jobUsingImage(db: Db, userId: string, assetId: string): Promise<string | null> {
  return (await imagesInUse(db, [assetId], userId)).get(assetId) ?? null;
}

export interface AssetSweepRound {
  removed: number;
  /** The round stopped at its limit or its time budget: more may be due at once. */
  more: boolean;
  /** Nothing was removed: job_view trails the log too far to tell which images are in use. */
  skipped?: true;
}

/**
 * Removes uploaded images last uploaded more than `retentionMs` ago that no unfinished job names,
 * at most `limit` a round. An upload of the same image rewrites its file, so the file's age is the
 * time since its last upload.
 */
export async function sweepUnusedAssets(deps: { storage: BlobStorage; dataSource: Db }, retentionMs: number, limit = 1000): Promise<AssetSweepRound> {
  if (await jobViewTooFarBehind(deps.dataSource)) return { removed: 0, more: false, skipped: true };
  const started = Date.now();
  let removed = 0;
  let batch: string[] = [];
  // Checked just before removal, batch by batch, so a job submitted during the round keeps its image.
  const removeUnused = async () => {
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
  for await (const key of deps.storage.listOlderThan('assets', retentionMs)) {
    batch.push(key);
    if (batch.length === CHECK_BATCH && !(await removeUnused())) return { removed, more: true };
  }
  if (batch.length && !(await removeUnused())) return { removed, more: true };
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
