import { BaseConfig, loadConfig, portVar } from '@reelay/service-kit';
import { z } from 'zod';

const bytes = (fallback: number) => z.coerce.number().int().min(1).max(100 * 1024 * 1024).default(fallback);

export const GatewayConfig = BaseConfig.extend({
  GATEWAY_PORT: portVar(3000),
  STORAGE_DIR: z.string().min(1).default('.data/storage'),
  JSON_BODY_LIMIT_BYTES: bytes(256 * 1024),
  ASSET_MAX_BYTES: bytes(10 * 1024 * 1024),
  CALLBACK_BODY_LIMIT_BYTES: bytes(1024 * 1024),
  /** Token bucket per API key, per gateway process: sustained requests per second and burst size. */
  RATE_LIMIT_PER_SECOND: z.coerce.number().positive().default(20),
  RATE_LIMIT_BURST: z.coerce.number().int().min(1).default(60),
  COMMAND_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  SSE_HEARTBEAT_MS: z.coerce.number().int().min(100).default(15_000),
  /** Safety-net re-read of a streamed job's log, in case a live push was missed. */
  SSE_RECHECK_MS: z.coerce.number().int().min(50).default(2_000),
  /** Open job streams one user may hold on one gateway process; one more answers 429. */
  SSE_MAX_STREAMS_PER_USER: z.coerce.number().int().min(1).default(100),
  /** Master key for per-user webhook secrets; without it GET /v1/webhooks/secret answers 503. */
  WEBHOOK_MASTER_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Shared with dispatch: signs the links providers fetch uploaded reference images from (GET /v1/assets/{id}/content). */
  ASSET_URL_SECRET: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(32, 'must be at least 32 characters').optional()),
});
export type GatewayConfig = z.infer<typeof GatewayConfig>;

export const loadGatewayConfig = (env: NodeJS.ProcessEnv = process.env): GatewayConfig => loadConfig(GatewayConfig, env);
