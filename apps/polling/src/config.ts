import { BaseConfig, ConfigError, msVar, portVar, setVariables } from '@reelay/service-kit';
import { z } from 'zod';
import type { SchedulePolicy } from './schedule/schedule-policy';

const offsets = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean).map(Number))
  .pipe(
    z
      .array(z.number().int().nonnegative())
      .min(1, 'at least one offset')
      .refine((a) => a.every((v, i) => i === 0 || v > a[i - 1]), 'offsets must be strictly increasing'),
  );

export const PollingConfig = BaseConfig.extend({
  POLLING_PORT: portVar(3003),
  STORAGE_DIR: z.string().default('.data/storage'),
  /** Checks after the provider accepted a job, ms (per provider: POLL_SCHEDULE_MS_<PROVIDER>). */
  POLL_SCHEDULE_MS: offsets.default([5000, 10000, 15000, 30000, 60000]),
  /** Cadence of checks once a job is delayed (per provider: POLL_DELAYED_INTERVAL_MS_<PROVIDER>). */
  POLL_DELAYED_INTERVAL_MS: msVar(60_000),
  /** Since acceptance; then provider_timeout (per provider: POLL_DEADLINE_MS_<PROVIDER>). */
  POLL_DEADLINE_MS: msVar(30 * 60_000),
  /** Wait after a check the provider refused (429/5xx) without Retry-After (per provider: POLL_ERROR_RETRY_MS_<PROVIDER>). */
  POLL_ERROR_RETRY_MS: msVar(5000),
  /** How often each replica looks for due checks. */
  POLL_TICK_MS: msVar(250),
  /** Checks one replica runs at once. */
  POLL_CONCURRENCY: z.coerce.number().int().min(1).max(512).default(16),
  /**
   * Checks of one provider one replica runs at once; unset: three quarters of POLL_CONCURRENCY with
   * more than one provider configured (a provider whose calls hang leaves the rest to the others), all of it with one.
   */
  POLL_CONCURRENCY_PER_PROVIDER: z.coerce.number().int().min(1).max(512).optional(),
  /**
   * How long a claimed check belongs to the replica that claimed it; after that another replica
   * may take it, so this is how long the checks of a crashed replica wait. The replica renews the
   * leases of its running checks every third of this, so a long output copy keeps its claim.
   */
  POLL_LEASE_MS: msVar(30_000),
  PROVIDER_CHECK_TIMEOUT_MS: msVar(30_000),
  OUTPUT_DOWNLOAD_TIMEOUT_MS: msVar(3 * 60_000),
  OUTPUT_MAX_BYTES: z.coerce.number().int().positive().default(512 * 1024 * 1024),
  /** Smaller files are not plausible videos. */
  OUTPUT_MIN_BYTES: z.coerce.number().int().positive().default(1024),
  /**
   * Days a succeeded job's video is kept; then its file is deleted and the job says so (its
   * `output.expiresAt` tells when). 0 keeps every output until it is deleted on purpose. Fractions
   * are allowed (0.5 = 12 hours).
   */
  OUTPUT_RETENTION_DAYS: z.coerce.number().min(0).default(0),
  /** How often one replica looks for outputs past their retention. */
  OUTPUT_RETENTION_SWEEP_MS: msVar(60 * 60_000),
  CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
});
export type PollingConfig = z.infer<typeof PollingConfig>;

/** OUTPUT_RETENTION_DAYS in ms; null when outputs are kept. */
export const outputRetentionMs = (config: Pick<PollingConfig, 'OUTPUT_RETENTION_DAYS'>): number | null =>
  config.OUTPUT_RETENTION_DAYS > 0 ? Math.max(1, Math.round(config.OUTPUT_RETENTION_DAYS * 86_400_000)) : null;

const PolicyOverrides = z.object({
  schedule: offsets.optional(),
  delayed: z.coerce.number().int().positive().optional(),
  deadline: z.coerce.number().int().positive().optional(),
  errorRetry: z.coerce.number().int().positive().optional(),
});

/**
 * The schedule of each provider: the defaults above, overridden by `<VAR>_<PROVIDER>` variables
 * (e.g. `POLL_DEADLINE_MS_RUNWAY=3600000`). A bad override stops start-up naming the variable.
 */
export function schedulePolicies(config: PollingConfig, providers: Iterable<string>, env: NodeJS.ProcessEnv = process.env): (provider: string) => SchedulePolicy {
  const base: SchedulePolicy = {
    offsetsMs: config.POLL_SCHEDULE_MS,
    delayedIntervalMs: config.POLL_DELAYED_INTERVAL_MS,
    deadlineMs: config.POLL_DEADLINE_MS,
    errorRetryMs: config.POLL_ERROR_RETRY_MS,
  };
  const byProvider = new Map<string, SchedulePolicy>();
  const set = setVariables(env);
  for (const provider of providers) {
    const suffix = provider.toUpperCase().replace(/[^A-Z0-9]/g, '_');
    const vars = {
      schedule: `POLL_SCHEDULE_MS_${suffix}`,
      delayed: `POLL_DELAYED_INTERVAL_MS_${suffix}`,
      deadline: `POLL_DEADLINE_MS_${suffix}`,
      errorRetry: `POLL_ERROR_RETRY_MS_${suffix}`,
    } as const;
    const parsed = PolicyOverrides.safeParse(Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, set[v]])));
    if (!parsed.success) {
      throw new ConfigError(parsed.error.issues.map((i) => `${vars[i.path[0] as keyof typeof vars]}: ${i.message}`));
    }
    const o = parsed.data;
    byProvider.set(provider, {
      offsetsMs: o.schedule ?? base.offsetsMs,
      delayedIntervalMs: o.delayed ?? base.delayedIntervalMs,
      deadlineMs: o.deadline ?? base.deadlineMs,
      errorRetryMs: o.errorRetry ?? base.errorRetryMs,
    });
  }
  return (provider) => byProvider.get(provider) ?? base;
}
