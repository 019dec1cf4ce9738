import type { AdapterFactory } from '../config/adapter-factory';
import { RunwayAdapter } from './runway-adapter';

/** Env: RUNWAY_API_KEY, RUNWAY_BASE_URL, RUNWAY_TIMEOUT_MS, RUNWAY_API_VERSION (default 2024-11-06). */
export const runwayFactory: AdapterFactory = {
  name: 'runway',
  envPrefix: 'RUNWAY',
  simPath: '/runway',
  create: (config, env) => new RunwayAdapter({ ...config, apiVersion: env.RUNWAY_API_VERSION || undefined }),
};
