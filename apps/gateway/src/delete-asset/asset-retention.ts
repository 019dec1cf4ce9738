import { onOneReplica, Ticker, type Logger } from '@reelay/service-kit';
import type { BlobStorage } from '@reelay/storage';
import type { DataSource } from 'typeorm';

/**
 * Assets a job needs or used lately: those of unfinished jobs, and of jobs submitted since `$1`.
 * job_view may trail the log by a moment, which the age test below covers: a job submitted
 * just now names an asset it just uploaded, or one used within the retention.
 */
const ASSETS_IN_USE_SQL = `
  SELECT DISTINCT job->'referenceImage'->>'assetId' AS asset_id
  FROM job_view
  WHERE job->'referenceImage'->>'assetId' IS NOT NULL
    AND (status IN ('queued', 'validating', 'running', 'delayed') OR created_at > $1)`;

export interface AssetSweepRound {
  removed: number;
  /** The round stopped at its limit: more may be due at once. */
  more: boolean;
}

/**
 * Removes uploaded images that were neither uploaded (again) nor named by a job for `retentionMs`,
 * at most `limit` a round. An upload of the same image rewrites its file, so the file's age is
 * the time since its last upload.
 */
export async function sweepUnusedAssets(deps: { storage: BlobStorage; dataSource: Pick<DataSource, 'query'> }, retentionMs: number, limit = 1000): Promise<AssetSweepRound> {
  const rows: { asset_id: string }[] = await deps.dataSource.query(ASSETS_IN_USE_SQL, [new Date(Date.now() - retentionMs)]);
  const inUse = new Set(rows.map((r) => r.asset_id));
  let removed = 0;
  for await (const key of deps.storage.listOlderThan('assets', retentionMs)) {
    if (inUse.has(key.slice('assets/'.length))) continue;
    if (removed === limit) return { removed, more: true };
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
      });
      return more;
    },
    intervalMs: everyMs,
    onError: (err) => deps.logger.warn({ err: String(err) }, 'asset retention sweep failed; trying again later'),
  });
  ticker.start();
  return { stop: () => ticker.stop() };
}
