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
  const errors = providerEnvErrors(env, factories);
  if (errors.length) throw new Error(`invalid provider configuration: ${errors.join('; ')}`);
  const enabled = enabledProviders(env);
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

const enabledProviders = (env: Env) => env.PROVIDERS_ENABLED?.split(',').map((s) => s.trim()).filter(Boolean);

/**
 * A misspelt provider name or a timeout that is not a number would otherwise be ignored without a
 * word (a provider quietly not offered, a default timeout): each names its variable instead.
 */
export function providerEnvErrors(env: Env, factories: readonly AdapterFactory[] = ADAPTER_FACTORIES): string[] {
  const known = factories.map((f) => f.name);
  const errors = (enabledProviders(env) ?? [])
    .filter((name) => !known.includes(name))
    .map((name) => `PROVIDERS_ENABLED: "${name}" is not a provider (known: ${known.join(', ')})`);
  for (const { envPrefix } of factories) {
    const name = `${envPrefix}_TIMEOUT_MS`;
    const raw = env[name];
    if (raw !== undefined && raw.trim() !== '' && !/^[1-9]\d*$/.test(raw.trim())) errors.push(`${name}: "${raw}" is not a whole number of milliseconds above 0`);
  }
  return errors;
}

/** Configured providers that talk to the simulator (no key of their own beside PROVIDER_SIM_URL): their jobs are simulated. */
export function simulatedProviders(env: Env, factories: readonly AdapterFactory[] = ADAPTER_FACTORIES): string[] {
  const enabled = enabledProviders(env);
  return factories
    .filter((f) => f.name !== 'local' && (!enabled || enabled.includes(f.name)))
    .filter((f) => env.PROVIDER_SIM_URL && !env[`${f.envPrefix}_API_KEY`] && !env[`${f.envPrefix}_BASE_URL`])
    .map((f) => f.name);
}
