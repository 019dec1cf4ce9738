import type { AdapterFactory } from '../config/adapter-factory';
import { VeoAdapter } from './veo-adapter';

/** Env: VEO_API_KEY (a Gemini API key), VEO_BASE_URL, VEO_TIMEOUT_MS, VEO_PERSON_GENERATION. */
export const veoFactory: AdapterFactory = {
  name: 'veo',
  envPrefix: 'VEO',
  simPath: '/veo/v1beta',
  create: (config, env) => new VeoAdapter({ ...config, personGeneration: env.VEO_PERSON_GENERATION || undefined }),
};
