import { JOB_VIEW_PROJECTION } from '@reelay/read-models';
import { onOneReplica, Ticker, type Logger } from '@reelay/service-kit';
import type { BlobStorage } from '@reelay/storage';
import type { DataSource } from 'typeorm';

type Db = Pick<DataSource, 'query'>;

/** job_view rows of unfinished jobs (its status index; jobs are few once finished ones are left out). */
const UNFINISHED = `status IN ('queued', 'validating', 'running', 'delayed')`;

const IN_USE_SQL = `
  SELECT DISTINCT job->'referenceImage'->>'assetId' AS asset_id
  FROM job_view
  WHERE ${UNFINISHED} AND job->'referenceImage'->>'assetId' IS NOT NULL`;

/** How far job_view trails the log: events after its checkpoint (all of them while it is rebuilt). */
const JOB_VIEW_LAG_SQL = `
  SELECT coalesce((SELECT max(global_position) FROM events), 0)
       - coalesce((SELECT global_position FROM checkpoints WHERE name = $1), 0) AS lag`;

/** job_view this far behind the log (a rebuild, a stuck projection) cannot say which images are in use. */
const MAX_JOB_VIEW_LAG = 2_000;
/** A round ends after this long (it holds a lock in an idle transaction: see onOneReplica). */
const ROUND_BUDGET_MS = 20_000;

/** Images named by unfinished jobs. */
async function imagesInUse(db: Db): Promise<Set<string>> {
  const rows: { asset_id: string }[] = await db.query(IN_USE_SQL);
  return new Set(rows.map((r) => r.asset_id));
}

/** An unfinished job of `userId` that names `assetId`, if any (another user's job cannot read the image anyway). */
export async function jobUsingImage(db: Db, userId: string, assetId: string): Promise<string | null> {
  const rows: { job_id: string }[] = await db.query(
    `SELECT job_id FROM job_view WHERE user_id = $1 AND ${UNFINISHED} AND job->'referenceImage'->>'assetId' = $2 LIMIT 1`,
    [userId, assetId],
  );
  return rows[0]?.job_id ?? null;
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
  const [{ lag }] = (await deps.dataSource.query(JOB_VIEW_LAG_SQL, [JOB_VIEW_PROJECTION])) as { lag: string }[];
  if (Number(lag) > MAX_JOB_VIEW_LAG) return { removed: 0, more: false, skipped: true };
  const inUse = await imagesInUse(deps.dataSource);
  const started = Date.now();
  let removed = 0;
  for await (const key of deps.storage.listOlderThan('assets', retentionMs)) {
    if (inUse.has(key.slice('assets/'.length))) continue;
    if (removed === limit || Date.now() - started > ROUND_BUDGET_MS) return { removed, more: true };
    await deps.storage.remove(key);
    removed++;
  }
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
