import type { AdapterFactory } from '../config/adapter-factory';
import { ReplicateAdapter } from './replicate-adapter';

/**
 * Env: REPLICATE_API_KEY, REPLICATE_BASE_URL, REPLICATE_TIMEOUT_MS, REPLICATE_WEBHOOK_SECRET,
 * REPLICATE_CANCEL_AFTER (e.g. `30m`), REPLICATE_INPUT_NAMES (JSON object renaming input fields).
 */
export const replicateFactory: AdapterFactory = {
  name: 'replicate',
  envPrefix: 'REPLICATE',
  simPath: '/replicate/v1',
  create: (config, env) =>
    new ReplicateAdapter({
      ...config,
      webhookSecret: env.REPLICATE_WEBHOOK_SECRET || undefined,
      cancelAfter: env.REPLICATE_CANCEL_AFTER || undefined,
      inputNames: env.REPLICATE_INPUT_NAMES ? (JSON.parse(env.REPLICATE_INPUT_NAMES) as Record<string, string>) : undefined,
    }),
};
