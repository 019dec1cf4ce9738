import type { Catalog } from '@reelay/catalog';
import type { EventStore } from '@reelay/event-store';
import type { JobCommand, JobState } from '@reelay/job-domain';
import { isProviderError, type ProviderAdapter } from '@reelay/providers';
import { timedProviderCall, type Logger } from '@reelay/service-kit';
import type { AssetUrlSigner, BlobStorage } from '@reelay/storage';
import type { ProviderCircuit } from '../circuit/provider-circuit';
import type { ProviderSlots } from '../capacity/provider-slots';
import type { SubmitBudgets } from '../capacity/submit-budgets';
import type { DispatchMetrics } from '../shared/dispatch-metrics';
import type { ErrorStreaks } from './error-streaks';
import type { FetchReferenceImage } from './fetch-reference-image';
import type { RetryPolicy } from './submit-failure-policy';
import type { SubmitLocks } from './submit-locks';

export interface DispatchJobDeps {
  store: EventStore;
  catalog: Catalog;
  adapters: ReadonlyMap<string, ProviderAdapter>;
  slots: ProviderSlots;
  /** One delivery at a time works on a job's submission, across replicas. */
  locks: Pick<SubmitLocks, 'tryLock'>;
  circuit: ProviderCircuit;
  policy: RetryPolicy;
  /** Submits per minute per provider (PROVIDER_MAX_SUBMITS_PER_MINUTE_<PROVIDER>); without it, no cap. */
  submitBudgets?: SubmitBudgets;
  capacityWaitMs: number;
  /** Longest a validated job waits for a capacity slot before it fails as provider_rate_limited (0: no limit). */
  capacityWaitMaxMs: number;
  /** How long a slot is held for a task that may exist and that nothing follows (the slot sweep's hold). */
  untrackedTaskHoldMs: number;
  /** Unexpected errors in a row a job's dispatch meets for this long fail the job (0: never; see give-up-after-errors.ts). */
  giveUpAfterErrorsMs: number;
  errorStreaks: Pick<ErrorStreaks, 'note' | 'forget'>;
  publicBaseUrl?: string;
  /** Where uploaded reference images are kept (shared with the gateway and intake). */
  storage: BlobStorage;
  /** Signs links to uploaded images (ASSET_URL_SECRET and PUBLIC_BASE_URL); without it they go inline as `data:` URLs. */
  assetUrls?: AssetUrlSigner;
  /** Fetches a user's image URL for a provider that takes images inline; without it the adapter fetches. */
  fetchReferenceImage?: FetchReferenceImage;
  metrics: DispatchMetrics;
  logger: Logger;
  now: () => Date;
  /** Test seam: runs after the provider accepted and before the log records it. */
  afterProviderAccepted?: () => void;
  /** Waits between tries to record a provider's answer (default RECORD_RETRY_DELAYS_MS). */
  recordRetryDelaysMs?: readonly number[];
}

/** `later`: nothing is wrong, look again after `delayMs` (a pending retry, or no capacity slot free). */
export type DispatchOutcome = { kind: 'done' } | { kind: 'later'; delayMs: number; why: 'retry' | 'capacity' | 'busy' };

export const DONE: DispatchOutcome = { kind: 'done' };

/** Decides a job command on the job's fresh state and appends what it decides (the handler's one way to write). */
export type Run = (command: (now: Date) => JobCommand) => Promise<{ events: unknown[]; state: JobState }>;

/** A provider call, timed and counted by operation and outcome. */
export function timed<T>(deps: DispatchJobDeps, provider: string, operation: string, call: () => Promise<T>): Promise<T> {
  return timedProviderCall(deps.metrics, provider, operation, (err) => (isProviderError(err) ? err.kind : 'unexpected'), call);
}
