import { timedProviderCall } from '@reelay/service-kit';
import { isProviderError, type ProviderAdapter } from '@reelay/providers';
import type { PollingDeps } from '../polling.deps';

/**
 * A status check refused for our account (a key being rotated, a billing hold) says nothing about
 * the task, which the provider may still be generating: it is checked again until the deadline,
 * like a 5xx, instead of failing every followed job of that provider at once.
 */
export const ACCOUNT_REFUSALS: ReadonlySet<string> = new Set(['auth', 'billing']);

/** One call to a provider, timed and counted by outcome in the shared provider metrics, in its own client span. */
export function providerCall<T>(deps: Pick<PollingDeps, 'metrics'>, adapter: ProviderAdapter, operation: string, fn: () => Promise<T>): Promise<T> {
  return timedProviderCall(deps.metrics.shared, adapter.name, operation, (err) => (isProviderError(err) ? err.kind : 'error'), fn);
}
