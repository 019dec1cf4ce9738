import type { AdapterFactory } from '../config/adapter-factory';
import { KlingAdapter } from './kling-adapter';

/**
 * Env: KLING_API_KEY (the access key), KLING_SECRET_KEY (signs the API tokens; required with a
 * real key), KLING_BASE_URL (default the Singapore host; `https://api.klingai.com` in China),
 * KLING_TIMEOUT_MS. Against the simulator the secret defaults to the simulator's key.
 */
export const klingFactory: AdapterFactory = {
  name: 'kling',
  envPrefix: 'KLING',
  simPath: '/kling',
  create: (config, env) => {
    // Against the simulator (no access key of our own) the simulator's key signs, whatever KLING_SECRET_KEY says.
    const secretKey = env.KLING_API_KEY ? env.KLING_SECRET_KEY : config.apiKey;
    if (!secretKey) throw new Error('KLING_SECRET_KEY is required with KLING_API_KEY (Kling signs API tokens with it)');
    return new KlingAdapter({ ...config, secretKey });
  },
};
