import { DEFAULT_MAX_AGE_MS } from '@reelay/messaging';
import { BaseConfig, countVar, csvVar, msVar, portVar } from '@reelay/service-kit';
import { z } from 'zod';

/** Dispatch's durations may be 0 (no wait, or the slot sweeper off). */
const ms = (fallback: number) => msVar(fallback, { allowZero: true });

/**
 * The longest a job may wait for capacity. The wait is the JobValidated delivery coming back, and the
 * bus drops an event DEFAULT_MAX_AGE_MS (7 days) after it was published, answered or not: a job
 * still waiting then would never be delivered again, left validating with its credits held. A day
 * of margin covers the relay's delay and the last redeliveries.
 */
export const CAPACITY_WAIT_CEILING_MS = DEFAULT_MAX_AGE_MS - 24 * 3_600_000;

/** 0 (the default) means the ceiling; more than the ceiling is refused, saying why. */
const capacityWaitMax = () =>
  z.coerce
    .number()
    .int()
    .min(0)
    .max(CAPACITY_WAIT_CEILING_MS, `must be at most ${CAPACITY_WAIT_CEILING_MS} (6 days): the bus keeps an event 7 days`)
    .default(0)
    .transform((waitMs) => waitMs || CAPACITY_WAIT_CEILING_MS);

export const DispatchConfig = BaseConfig.extend({
  DISPATCH_PORT: portVar(3002),
  /** Shared with the gateway: uploaded reference images are read from here and inlined for providers. */
  STORAGE_DIR: z.string().default('.data/storage'),
  /** Dev/test only: host:port entries exempt from the SSRF checks when fetching reference images (as intake's). */
  OUTBOUND_ALLOW_HOSTS: csvVar(),
  /** Reference images are fetched here for providers that take them inline (Veo). */
  REFERENCE_IMAGE_TIMEOUT_MS: msVar(30_000),
  /** Where providers reach reelay's gateway, for per-request callbacks (e.g. https://reelay.example.com). */
  PUBLIC_BASE_URL: z.url().optional(),
  /** Shared with the gateway: with PUBLIC_BASE_URL, uploaded reference images reach providers as signed links, not inline. */
  ASSET_URL_SECRET: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(32, 'must be at least 32 characters').optional()),
  /** Jobs in flight per provider account unless PROVIDER_MAX_IN_FLIGHT_<PROVIDER> says otherwise. */
  PROVIDER_MAX_IN_FLIGHT_DEFAULT: countVar(50),
  /** Slots one user's jobs may hold at once over every provider, so one user's burst cannot take them all (0: no per-user bound). */
  DISPATCH_MAX_IN_FLIGHT_PER_USER: countVar(0),
  /** 429s are retried (honouring Retry-After) until this much time has passed since the intent. */
  DISPATCH_RATE_LIMIT_BUDGET_MS: ms(5 * 60_000),
  DISPATCH_RATE_LIMIT_MAX_RETRIES: countVar(30),
  /** Retry-After assumed when a 429 carries none. */
  DISPATCH_RATE_LIMIT_DEFAULT_WAIT_MS: ms(2_000),
  /** 5xx/timeout at submit: retries after the first try, with exponential backoff from the base. */
  DISPATCH_SERVER_MAX_RETRIES: countVar(3),
  DISPATCH_RETRY_BASE_MS: ms(1_000),
  DISPATCH_RETRY_MAX_MS: ms(30_000),
  /**
   * How long dispatch keeps trying to record a provider's answer it holds (a database restart or
   * failover) before it leaves the job to the next delivery, whose lookup by our key must come
   * after the provider lists the task (LISTING_LAG_MS): hence at least 5 s.
   */
  DISPATCH_RECORD_RETRY_MS: z.coerce.number().int().min(5_000, 'must be at least 5000: a task found again sooner may not be listed yet').default(61_750),
  /** How soon a job waiting for a capacity slot looks again. */
  DISPATCH_CAPACITY_WAIT_MS: ms(1_000),
  /**
   * Longest a validated job waits for a capacity slot; then it fails as provider_rate_limited, its
   * credits given back. 0 (the default) and at most: CAPACITY_WAIT_CEILING_MS.
   */
  DISPATCH_CAPACITY_WAIT_MAX_MS: capacityWaitMax(),
  /**
   * A job every delivery of which has thrown an unexpected error (not a provider's answer: an
   * unreadable image file, a bug) for this long fails with unknown_provider_error, its credits given back. 0: never.
   */
  DISPATCH_GIVE_UP_AFTER_ERRORS_MS: ms(60 * 60_000),
  /** Safety net: how often slots of finished jobs are swept. */
  DISPATCH_SLOT_SWEEP_MS: ms(60_000),
  /**
   * A finished job whose provider task polling follows (a cancel the provider did not stop) keeps
   * its slot until polling records the task's end, and at most this long after the job ended (keep
   * it above polling's longest POLL_DEADLINE_MS).
   */
  DISPATCH_CANCELED_TASK_HOLD_MS: ms(60 * 60_000),
  /**
   * A task that may exist but that nothing follows (a submit that got no answer, at a provider that
   * cannot be searched by our key) is taken to be over this long after its job ended, and the slot freed.
   */
  DISPATCH_UNTRACKED_TASK_HOLD_MS: ms(15 * 60_000),
  /** How often reelay_provider_in_flight is re-read from the slots of every replica (0: only as acquires set it). */
  DISPATCH_IN_FLIGHT_REFRESH_MS: ms(2_000),
  /** A circuit opens after this many consecutive submit failures that say the provider is failing (5xx, timeouts, refusals of our account) within the window. */
  CIRCUIT_FAILURE_THRESHOLD: countVar(5),
  CIRCUIT_WINDOW_MS: ms(60_000),
  /** After this long an open circuit lets one probe submission through (half-open). */
  CIRCUIT_COOLDOWN_MS: ms(30_000),
  /** How long a replica goes by the circuit state it last saw before reading it again (0: every time). */
  CIRCUIT_VIEW_TTL_MS: ms(1_000),
  /** Redelivery of a message whose handler died (e.g. the process crashed mid-submit). */
  DISPATCH_ACK_WAIT_MS: z.coerce.number().int().min(1000).default(60_000),
  /** A submit still running after this is taken for hung: no longer kept alive, its job is delivered again (and waits for the submit lock). */
  DISPATCH_MAX_HANDLER_MS: z.coerce.number().int().min(1000).default(600_000),
  CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  /** Test seam for the crash test: SIGKILL right after the provider accepted, before the log records it. */
  DISPATCH_CRASH_AFTER_SUBMIT: z.enum(['0', '1']).default('0'),
});
export type DispatchConfig = z.infer<typeof DispatchConfig>;

/** A per-provider setting: `<PREFIX>_<PROVIDER>` (the provider upper-cased, `-` → `_`). */
const perProviderVar = (prefix: string, provider: string) => `${prefix}_${provider.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;

/** The per-provider limits an operator sets, each a whole number: jobs in flight, and submits per minute. */
const PER_PROVIDER = [
  { prefix: 'PROVIDER_MAX_IN_FLIGHT', unit: 'jobs', hasDefault: true },
  { prefix: 'PROVIDER_MAX_SUBMITS_PER_MINUTE', unit: 'submits', hasDefault: false },
] as const;

/** `<PREFIX>_<PROVIDER>` as a count, else `fallback`; `perProviderLimitErrors` has refused a bad value at start. */
function perProviderCount(prefix: (typeof PER_PROVIDER)[number]['prefix'], provider: string, env: Record<string, string | undefined>, fallback: number): number {
  const raw = env[perProviderVar(prefix, provider)]?.trim();
  return raw ? Number(raw) : fallback;
}

/** PROVIDER_MAX_IN_FLIGHT_<PROVIDER>, else the default. */
export const maxInFlightFor = (provider: string, env: Record<string, string | undefined>, fallback: number) => perProviderCount('PROVIDER_MAX_IN_FLIGHT', provider, env, fallback);

/** PROVIDER_MAX_SUBMITS_PER_MINUTE_<PROVIDER>: how many submits dispatch sends the provider a minute, over every replica; 0 (unset): no cap. */
export const maxSubmitsPerMinuteFor = (provider: string, env: Record<string, string | undefined>) => perProviderCount('PROVIDER_MAX_SUBMITS_PER_MINUTE', provider, env, 0);

/** A per-provider limit for a provider that does not exist, or that is not a count, would be ignored without a word. */
export function perProviderLimitErrors(env: Record<string, string | undefined>, providers: readonly string[]): string[] {
  return PER_PROVIDER.flatMap(({ prefix, unit, hasDefault }) => {
    const known = new Set(providers.map((p) => perProviderVar(prefix, p)));
    return Object.entries(env)
      .filter(([name, raw]) => name.startsWith(`${prefix}_`) && !(hasDefault && name === `${prefix}_DEFAULT`) && raw !== undefined && raw.trim() !== '')
      .flatMap(([name, raw]) => {
        if (!known.has(name)) return [`${name}: no provider of that name (known: ${providers.join(', ')})`];
        return /^\d+$/.test(raw!.trim()) ? [] : [`${name}: "${raw}" is not a whole number of ${unit}`];
      });
  });
}
