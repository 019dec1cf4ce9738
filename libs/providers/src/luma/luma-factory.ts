import type { AdapterFactory } from '../config/adapter-factory';
import { LumaAdapter } from './luma-adapter';

/** Env: LUMA_API_KEY, LUMA_BASE_URL, LUMA_TIMEOUT_MS. */
export const lumaFactory: AdapterFactory = {
  name: 'luma',
  envPrefix: 'LUMA',
  simPath: '/luma/dream-machine/v1',
  create: (config) => new LumaAdapter(config),
};
