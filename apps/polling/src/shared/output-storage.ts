import { LocalStorage } from '@reelay/storage';
import type { PollingMetrics } from './polling-metrics';

/** Where outputs are copied to, with the copies' fsync waits on `reelay_storage_sync_seconds`. */
export function outputStorage(dir: string, metrics: PollingMetrics): LocalStorage {
  return new LocalStorage(dir, { observeSync: (target, seconds) => metrics.storageSync.observe({ target }, seconds) });
}
