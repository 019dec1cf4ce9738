import { BaseConfig, loadConfig, portVar } from '@reelay/service-kit';
import { z } from 'zod';

const bytes = (fallback: number) => z.coerce.number().int().min(1).max(100 * 1024 * 1024).default(fallback);

export const GatewayConfig = BaseConfig.extend({
  GATEWAY_PORT: portVar(3000),
  STORAGE_DIR: z.string().min(1).default('.data/storage'),
  JSON_BODY_LIMIT_BYTES: bytes(256 * 1024),
  ASSET_MAX_BYTES: bytes(10 * 1024 * 1024),
  CALLBACK_BODY_LIMIT_BYTES: bytes(1024 * 1024),
  /**
   * Provider callbacks come without an API key, so what one may cost is bounded: its body must
   * arrive within CALLBACK_BODY_TIMEOUT_MS, and at most CALLBACK_MAX_CONCURRENT are read at once per
   * gateway process (one more answers 503, which providers retry; polling finds the job meanwhile).
   * Without these, clients trickling bodies just under the size limit could hold the gateway's
   * memory for minutes.
   */
  CALLBACK_BODY_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
  CALLBACK_MAX_CONCURRENT: z.coerce.number().int().min(1).max(10_000).default(64),
  /** Token bucket per API key, per gateway process: sustained requests per second and burst size. */
  RATE_LIMIT_PER_SECOND: z.coerce.number().positive().default(20),
  RATE_LIMIT_BURST: z.coerce.number().int().min(1).default(60),
  /**
   * Token bucket per client address, per gateway process, for what comes without a valid API key:
   * provider callbacks, signed asset links and refused keys. Providers send bursts of callbacks
   * from few addresses, hence the generous defaults.
   */
  PUBLIC_RATE_LIMIT_PER_SECOND: z.coerce.number().positive().default(100),
  PUBLIC_RATE_LIMIT_BURST: z.coerce.number().int().min(1).default(1000),
  /**
   * Express's `trust proxy`: which hops' X-Forwarded-For to believe for the client address.
   * Off by default (the address is the TCP peer); behind a load balancer set a hop count, or
   * addresses/ranges such as `loopback, uniquelocal` or `10.0.0.0/8` (`true` believes whatever the
   * client put first in the header).
   */
  TRUST_PROXY: z.preprocess(
    (v) => (v === undefined || v === '' || v === 'false' ? false : v === 'true' ? true : /^\d+$/.test(String(v)) ? Number(v) : v),
    z.union([z.boolean(), z.number().int().min(0).max(100), z.string().regex(/^[\w.:/]+(\s*,\s*[\w.:/]+)*$/, 'must be true, false, a hop count or a comma-separated list of addresses, ranges or names')]),
  ),
  /** When set, GET /metrics (on the public port) answers only `Authorization: Bearer <token>`; give Prometheus the same token. */
  METRICS_TOKEN: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(16, 'must be at least 16 characters').optional()),
  COMMAND_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  SSE_HEARTBEAT_MS: z.coerce.number().int().min(100).default(15_000),
  /** Safety-net re-read of a streamed job's log, in case a live push was missed. */
  SSE_RECHECK_MS: z.coerce.number().int().min(50).default(2_000),
  /**
   * Longest a job stream stays open: then it ends, and the client reconnects (Last-Event-ID) and is
   * authenticated again, so a revoked key stops streaming within this time. A stream opened with a
   * job token also ends when the token expires.
   */
  SSE_MAX_STREAM_MS: z.coerce.number().int().min(1000).max(86_400_000).default(900_000),
  /** Open job streams one user may hold on one gateway process; one more answers 429. */
  SSE_MAX_STREAMS_PER_USER: z.coerce.number().int().min(1).default(100),
  /** The webhook master key (notification's): the gateway derives job tokens' key from it when JOB_TOKEN_SECRET is not set. */
  WEBHOOK_MASTER_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  /**
   * Days an uploaded image is kept after its last upload (an unfinished job keeps the image it
   * names); 0 keeps uploads until their owner deletes them. Fractions are allowed.
   */
  ASSET_RETENTION_DAYS: z.coerce.number().min(0).default(0),
  /** How often one gateway replica looks for uploads past their retention. */
  ASSET_RETENTION_SWEEP_MS: z.coerce.number().int().min(100).default(60 * 60_000),
  /** Posters (a still of a job's video) made at once by one gateway process; each runs ffmpeg on a core for a moment. */
  POSTER_MAX_CONCURRENT: z.coerce.number().int().min(1).max(64).default(2),
  /** Longest a poster request waits for its turn and ffmpeg together before it answers 503. */
  POSTER_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(20_000),
  /**
   * Signs job tokens (`POST /v1/jobs/{id}/token`: a job's stream and video without an API key).
   * Without it they are signed with a key derived from WEBHOOK_MASTER_SECRET; without either, the
   * route answers 503. The same on every gateway replica.
   */
  JOB_TOKEN_SECRET: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(32, 'must be at least 32 characters').optional()),
  /** Shared with dispatch: signs the links providers fetch uploaded reference images from (GET /v1/assets/{id}/content). */
  ASSET_URL_SECRET: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(32, 'must be at least 32 characters').optional()),
});
export type GatewayConfig = z.infer<typeof GatewayConfig>;

export const loadGatewayConfig = (env: NodeJS.ProcessEnv = process.env): GatewayConfig => loadConfig(GatewayConfig, env);
