import type { EventStore } from '@reelay/event-store';
import type { ProviderAdapter } from '@reelay/providers';
import type { Logger } from '@reelay/service-kit';
import type { BlobStorage } from '@reelay/storage';
import type { PollScheduleRepository } from './schedule/poll-schedule.repository';
import type { ProviderPauses } from './schedule/provider-pauses';
import type { SchedulePolicy } from './schedule/schedule-policy';
import type { PollingMetrics } from './shared/polling-metrics';
import type { OutputRules } from './take-output/take-output';

export const POLLING_DEPS = Symbol('POLLING_DEPS');

export interface PollingDeps {
  store: EventStore;
  schedule: PollScheduleRepository;
  adapters: ReadonlyMap<string, ProviderAdapter>;
  storage: BlobStorage;
  policyFor: (provider: string) => SchedulePolicy;
  outputRules: OutputRules;
  /** How long an output is kept after the job succeeds (OUTPUT_RETENTION_DAYS); null: until deleted on purpose. */
  outputRetentionMs: number | null;
  checkTimeoutMs: number;
  /** Providers whose checks wait after a 429 (this replica's). */
  pauses: ProviderPauses;
  metrics: PollingMetrics;
  logger: Logger;
}

export interface TickerOptions {
  tickMs: number;
  concurrency: number;
  leaseMs: number;
  /** Checks of one provider at once in this replica (default: `concurrency`), so a provider that hangs leaves slots to the others. */
  perProvider?: number;
}
