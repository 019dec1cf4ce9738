import type { ProviderAdapter, ProviderAdapterConfig } from '../adapter/provider-adapter';

export type Env = Record<string, string | undefined>;

/**
 * How one provider's adapter is built from environment variables. `createAdapters` reads the
 * common variables `<envPrefix>_API_KEY`, `<envPrefix>_BASE_URL`, `<envPrefix>_TIMEOUT_MS`;
 * `create` may read provider-specific extras from `env`.
 */
export interface AdapterFactory {
  name: string;
  envPrefix: string;
  /** Where provider-sim serves this provider's API (used when PROVIDER_SIM_URL is set). */
  simPath: string;
  create(config: ProviderAdapterConfig, env: Env): ProviderAdapter;
}
