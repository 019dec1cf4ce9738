import type { ProviderAdapter } from '../adapter/provider-adapter';
import { withLocalFallback } from '../local/local-factory';
import type { Env } from './adapter-factory';
import { createAdapters } from './create-adapters';

/**
 * The adapters a service uses: every configured provider, or the local renderer when none is,
 * so a fresh install makes real videos without any provider account.
 */
export function configuredAdapters(env: Env = process.env): Map<string, ProviderAdapter> {
  return withLocalFallback(createAdapters(env), env);
}
