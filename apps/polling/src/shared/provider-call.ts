import { timedProviderCall } from '@reelay/service-kit';
import { isProviderError, type ProviderAdapter, type ProviderCheckResult } from '@reelay/providers';
import type { PollingDeps } from '../polling.deps';
import { MIN_RETRY_AFTER_MS } from '../schedule/schedule-policy';

/**
 * A status check refused for our account (a key being rotated, a billing hold) says nothing about
 * the task, which the provider may still be generating: it is checked again until the deadline,
 * like a 5xx, instead of failing every followed job of that provider at once.
 */
export const ACCOUNT_REFUSALS: ReadonlySet<string> = new Set(['auth', 'billing']);

/** One call to a provider, timed and counted by outcome in the shared provider metrics, in its own client span. */
export function providerCall<T>(deps: Pick<PollingDeps, 'metrics'>, adapter: ProviderAdapter, operation: string, fn: () => Promise<T>, outcomeOf?: (out: T) => string): Promise<T> {
  return timedProviderCall(deps.metrics.shared, adapter.name, operation, (err) => (isProviderError(err) ? err.kind : 'error'), fn, outcomeOf);
}

/**
 * The longest a 429 holds back a provider's other checks, whatever its Retry-After says: each row's
 * own wait follows the header (up to its deadline), but a pause of hours would also hold up the
 * deadlines, finished outputs and cancels of every other job of that provider.
 */
export const MAX_PAUSE_MS = 60_000;

/**
 * One status check of a task at its provider. A 429 holds back this replica's other checks of that
 * provider (ProviderPauses) for its Retry-After, or the provider's error wait without one, at most MAX_PAUSE_MS.
 */
export async function checkAtProvider(deps: Pick<PollingDeps, 'metrics' | 'checkTimeoutMs' | 'pauses' | 'policyFor'>, adapter: ProviderAdapter, providerTaskId: string): Promise<ProviderCheckResult> {
  try {
    return await providerCall(deps, adapter, 'check', () => adapter.check(providerTaskId, { timeoutMs: deps.checkTimeoutMs }));
  } catch (err) {
    if (isProviderError(err) && err.kind === 'rate_limited') {
      deps.pauses.rateLimited(adapter.name, Math.min(Math.max(err.retryAfterMs ?? deps.policyFor(adapter.name).errorRetryMs, MIN_RETRY_AFTER_MS), MAX_PAUSE_MS));
    }
    throw err;
  }
}
