import type { AdapterFactory } from '../config/adapter-factory';
import { MinimaxAdapter } from './minimax-adapter';

/** Env: MINIMAX_API_KEY, MINIMAX_BASE_URL, MINIMAX_TIMEOUT_MS. */
export const minimaxFactory: AdapterFactory = {
  name: 'minimax',
  envPrefix: 'MINIMAX',
  simPath: '/minimax',
  create: (config) => new MinimaxAdapter(config),
};
