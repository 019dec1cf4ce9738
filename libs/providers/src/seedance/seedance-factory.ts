import type { AdapterFactory } from '../config/adapter-factory';
import { SeedanceAdapter } from './seedance-adapter';

/** Env: SEEDANCE_API_KEY, SEEDANCE_BASE_URL, SEEDANCE_TIMEOUT_MS, SEEDANCE_CORRELATION (none|safety_identifier), SEEDANCE_PARAM_STYLE (body|text). */
export const seedanceFactory: AdapterFactory = {
  name: 'seedance',
  envPrefix: 'SEEDANCE',
  simPath: '/seedance/api/v3',
  create: (config, env) =>
    new SeedanceAdapter({
      ...config,
      correlation: env.SEEDANCE_CORRELATION === 'safety_identifier' ? 'safety_identifier' : 'none',
      paramStyle: env.SEEDANCE_PARAM_STYLE === 'text' ? 'text' : 'body',
    }),
};
