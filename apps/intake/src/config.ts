import { BaseConfig, csvVar, msVar, portVar } from '@reelay/service-kit';
import { z } from 'zod';

export const IntakeConfig = BaseConfig.extend({
  INTAKE_PORT: portVar(3001),
  STORAGE_DIR: z.string().default('.data/storage'),
  /** Case-insensitive words or phrases refused in prompts (moderation_rejected). */
  MODERATION_BLOCKED_TERMS: csvVar(),
  ASSET_MAX_BYTES: z.coerce.number().int().positive().default(10 * 1024 * 1024),
  ASSET_FETCH_TIMEOUT_MS: msVar(10_000),
  ASSET_MIN_SIDE: z.coerce.number().int().positive().default(64),
  ASSET_MAX_SIDE: z.coerce.number().int().positive().default(8192),
  /** host:port pairs exempt from the private-address check (local development and tests only). */
  OUTBOUND_ALLOW_HOSTS: csvVar(),
  CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  /** How often jobs past their `cancelAfterSeconds` are looked for and canceled (one replica at a time). */
  DEADLINE_SWEEP_MS: msVar(5_000),
});
export type IntakeConfig = z.infer<typeof IntakeConfig>;
