import type { ProviderAdapter, ProviderAdapterConfig } from '../adapter/provider-adapter';
import type { AdapterFactory, Env } from './adapter-factory';
import { ADAPTER_FACTORIES } from '../adapter-registry';

/**
 * Builds every configured adapter. A provider is configured when `<PREFIX>_API_KEY` is set (it then
 * talks to the real API, or to `<PREFIX>_BASE_URL`), or when `PROVIDER_SIM_URL` points at a
 * provider-sim: every provider without a key of its own is then configured against the simulator
 * (`<PROVIDER_SIM_URL><simPath>`, key `sim-key`). A real key never goes to the simulator.
 * `PROVIDERS_ENABLED` (comma list) restricts the set.
 */
export function createAdapters(env: Env = process.env, factories: readonly AdapterFactory[] = ADAPTER_FACTORIES): Map<string, ProviderAdapter> {
  const enabled = env.PROVIDERS_ENABLED?.split(',').map((s) => s.trim()).filter(Boolean);
  const out = new Map<string, ProviderAdapter>();
  for (const factory of factories) {
    if (enabled && !enabled.includes(factory.name)) continue;
    const config = adapterConfigFromEnv(factory, env);
    if (!config) continue;
    out.set(factory.name, factory.create(config, env));
  }
  return out;
}

export function adapterConfigFromEnv(factory: AdapterFactory, env: Env): ProviderAdapterConfig | null {
  const p = factory.envPrefix;
  const simUrl = env.PROVIDER_SIM_URL?.replace(/\/+$/, '');
  const ownKey = env[`${p}_API_KEY`];
  const apiKey = ownKey || (simUrl ? 'sim-key' : undefined);
  if (!apiKey) return null;
  const baseUrl = env[`${p}_BASE_URL`] || (!ownKey && simUrl ? simUrl + factory.simPath : undefined);
  const timeout = Number(env[`${p}_TIMEOUT_MS`]);
  const config: ProviderAdapterConfig = { apiKey };
  if (baseUrl) config.baseUrl = baseUrl;
  if (Number.isFinite(timeout) && timeout > 0) config.timeoutMs = timeout;
  return config;
}
