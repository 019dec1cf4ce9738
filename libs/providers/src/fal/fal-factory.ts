import type { AdapterFactory } from '../config/adapter-factory';
import { FalAdapter } from './fal-adapter';

/**
 * Env: FAL_API_KEY, FAL_BASE_URL, FAL_TIMEOUT_MS, FAL_JWKS_URL, FAL_WEBHOOKS (1 to send
 * `fal_webhook`), FAL_DURATION_FORMAT (string|number|seconds), FAL_DELAYED_QUEUE_POSITION.
 * With PROVIDER_SIM_URL set and neither a key nor a base URL of fal's own (the adapter talks to the
 * sim), the JWKS URL defaults to the sim's; with a real key, fal's keys verify its webhooks.
 */
export const falFactory: AdapterFactory = {
  name: 'fal',
  envPrefix: 'FAL',
  simPath: '/fal',
  create: (config, env) => {
    const sim = env.PROVIDER_SIM_URL?.replace(/\/+$/, '');
    const format = env.FAL_DURATION_FORMAT;
    const delayed = Number(env.FAL_DELAYED_QUEUE_POSITION);
    return new FalAdapter({
      ...config,
      jwksUrl: env.FAL_JWKS_URL || (sim && !env.FAL_BASE_URL && !env.FAL_API_KEY ? `${sim}/fal/.well-known/jwks.json` : undefined),
      webhooks: env.FAL_WEBHOOKS === '1' || env.FAL_WEBHOOKS === 'true',
      durationFormat: format === 'number' || format === 'seconds' ? format : 'string',
      delayedQueuePosition: Number.isFinite(delayed) && delayed > 0 ? delayed : undefined,
    });
  },
};
