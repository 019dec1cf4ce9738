import type { ProviderAdapterConfig } from '../adapter/provider-adapter';
import type { ProviderError } from '../adapter/provider-error';
import { ProviderHttp, type HttpErrorInfo } from './provider-http';

export interface ProviderHttpSetup {
  provider: string;
  config: Partial<ProviderAdapterConfig>;
  /** The real service, used when `config.baseUrl` is unset. */
  defaultBaseUrl: string;
  /** Auth (and any fixed) headers sent with every API call. */
  headers: Record<string, string>;
  /** Strings to scrub from operator details besides the API key (webhook secrets). */
  secrets?: (string | undefined)[];
  /** The adapter's error-body mapper; it gets the client's own secret-free `detail`. */
  mapError?: (info: HttpErrorInfo, detail: (text: string) => string) => ProviderError | undefined;
}

/** The ProviderHttp every adapter builds from its config: base URL, auth, timeout, fetch, secrets, error mapping. */
export function createProviderHttp(setup: ProviderHttpSetup): ProviderHttp {
  const { config, mapError } = setup;
  const http: ProviderHttp = new ProviderHttp({
    provider: setup.provider,
    baseUrl: config.baseUrl ?? setup.defaultBaseUrl,
    headers: setup.headers,
    timeoutMs: config.timeoutMs,
    fetch: config.fetch,
    secrets: [config.apiKey, ...(setup.secrets ?? [])].filter((s): s is string => Boolean(s)),
    mapError: mapError && ((info) => mapError(info, (t) => http.detail(t))),
  });
  return http;
}

export function bearerAuth(apiKey: string): Record<string, string> {
  return { authorization: `Bearer ${apiKey}` };
}
