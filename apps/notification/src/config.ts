import { BaseConfig, csvVar, msVar, portVar } from '@reelay/service-kit';
import { z } from 'zod';

export const NotificationConfig = BaseConfig.extend({
  NOTIFICATION_PORT: portVar(3004),
  /** Users' webhook secrets are derived from it (the gateway uses the same value). */
  WEBHOOK_MASTER_SECRET: z.string().min(16, 'must be at least 16 characters'),
  /**
   * While the master secret is being rotated: the one before. Webhooks then carry a signature under
   * each user's secret from both, so receivers still checking with the old secret accept them until
   * they switch to the new one (GET /v1/webhooks/secret); unset it once they have.
   */
  WEBHOOK_MASTER_SECRET_PREVIOUS: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(16, 'must be at least 16 characters').optional()),
  /** host:port pairs exempt from the private-address check (local development and tests only). */
  OUTBOUND_ALLOW_HOSTS: csvVar(),
  WEBHOOK_TIMEOUT_MS: msVar(10_000),
  /** Attempts per status change before it is marked failed; with the default backoff about an hour. */
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(8),
  /** Delay after the first failed attempt; doubles per attempt up to WEBHOOK_BACKOFF_MAX_MS. */
  WEBHOOK_BACKOFF_BASE_MS: msVar(30_000),
  WEBHOOK_BACKOFF_MAX_MS: msVar(30 * 60_000),
  /** How often due retries (and anything a crash left behind) are looked for. */
  WEBHOOK_TICK_MS: msVar(1000),
  /** Deliveries in parallel per process (each to a different job). */
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  /** Deliveries of one user in flight at once, across every replica: one user's slow receiver cannot take every slot. */
  WEBHOOK_CONCURRENCY_PER_USER: z.coerce.number().int().min(1).max(1024).default(8),
  /** Days a webhook delivery that ended (delivered or given up) is kept, with its attempts and the job it sent; 0 keeps them. */
  WEBHOOK_HISTORY_DAYS: z.coerce.number().int().min(0).max(3650).default(30),
  /** Job states kept folded per process (least recently used evicted; 0 = fold from the stream every time). */
  JOB_STATE_CACHE_SIZE: z.coerce.number().int().min(0).default(10_000),
  CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  /** An event held by a process that died is redelivered after this (handlers in progress keep it alive). */
  CONSUMER_ACK_WAIT_MS: msVar(30_000),
});
export type NotificationConfig = z.infer<typeof NotificationConfig>;
