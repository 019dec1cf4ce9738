import type { ProviderCheckResult } from './provider-adapter';

/**
 * A status word this adapter does not know (the provider added one, or answered oddly). The task
 * is taken as still running, not failed: a new word most often names a new in-between state, and
 * failing every job on it would throw away work already paid for. The caller alerts operators
 * (`unrecognized`), and the job's deadline still ends a task that never reaches a known state.
 */
export function unrecognizedStatus(word: unknown): ProviderCheckResult {
  return { state: 'running', providerStatus: String(word ?? '(none)').slice(0, 40), unrecognized: true };
}
