import type { AdapterFactory, Env } from '../config/adapter-factory';
import type { ProviderAdapter } from '../adapter/provider-adapter';
import { LocalAdapter } from './local-adapter';

/**
 * Env: LOCAL_RENDERER_BASE_URL (default `<PROVIDER_SIM_URL>/local/v1`), LOCAL_RENDERER_TIMEOUT_MS.
 * Registered like the others, it is configured whenever PROVIDER_SIM_URL is set (or
 * LOCAL_RENDERER_API_KEY, any value); `withLocalFallback` adds it when nothing else is configured.
 */
export const localFactory: AdapterFactory = {
  name: 'local',
  envPrefix: 'LOCAL_RENDERER',
  simPath: '/local/v1',
  create: (config) => new LocalAdapter(config),
};

/** The local renderer as the default provider: used when no other adapter is configured. */
export function withLocalFallback(adapters: Map<string, ProviderAdapter>, env: Env = process.env): Map<string, ProviderAdapter> {
  if ([...adapters.keys()].some((name) => name !== 'local')) return adapters;
  if (adapters.has('local')) return adapters;
  const sim = env.PROVIDER_SIM_URL?.replace(/\/+$/, '');
  const baseUrl = env.LOCAL_RENDERER_BASE_URL || (sim ? `${sim}/local/v1` : undefined);
  const timeout = Number(env.LOCAL_RENDERER_TIMEOUT_MS);
  const out = new Map(adapters);
  out.set('local', new LocalAdapter({ ...(baseUrl ? { baseUrl } : {}), ...(timeout > 0 ? { timeoutMs: timeout } : {}) }));
  return out;
}
