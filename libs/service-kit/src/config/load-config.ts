import { z } from 'zod';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses environment variables with a zod schema; a bad value names the variable and stops start-up.
 * An empty variable counts as unset (`FOO=` in an env file, `${FOO:-}` in compose): read as a
 * number it would be 0, which for a port, a limit or a sweep interval means something else entirely.
 */
export function loadConfig<S extends z.ZodObject>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const parsed = schema.safeParse(setVariables(env));
  if (parsed.success) return parsed.data;
  throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
}

/** The variables of `env` that are set: an empty one counts as unset (see loadConfig). */
export function setVariables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
}

/** Variables every service reads. */
export const BaseConfig = z.object({
  DATABASE_URL: z.string().url().default('postgres://postgres@127.0.0.1:5432/reelay'),
  NATS_URL: z.string().default('nats://127.0.0.1:4222'),
  NATS_PREFIX: z.string().regex(/^[a-z0-9]+$/, 'lowercase letters and digits only').default('reelay'),
  NATS_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // A sweep on one replica holds a pooled connection for its lock while its statements need another.
  DB_POOL_SIZE: z.coerce.number().int().min(2).max(100).default(10),
  // Under the 45 s that compose and the k8s manifests give a stopping container before they kill it.
  SHUTDOWN_GRACE_MS: z.coerce.number().int().positive().default(40_000),
});
export type BaseConfig = z.infer<typeof BaseConfig>;

export const portVar = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

/** A comma-separated list variable; empty when unset. */
export const csvVar = () =>
  z
    .string()
    .default('')
    .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));

/** A duration in whole milliseconds; 0 is refused unless `allowZero` (where 0 means "at once" or "off"). */
export const msVar = (fallback: number, opts: { allowZero?: boolean } = {}) => {
  const ms = z.coerce.number().int();
  return (opts.allowZero ? ms.min(0) : ms.positive()).default(fallback);
};

/** A whole count, 0 or more. */
export const countVar = (fallback: number) => z.coerce.number().int().min(0).default(fallback);
