import type { ProviderAdapter } from '@reelay/providers';
import type { DispatchJobDeps } from './dispatch-job.deps';

/** A provider that de-duplicates by our key, or can find a task by it: a try of unknown outcome can be repeated safely. */
export const findsBySubmissionKey = (deps: Pick<DispatchJobDeps, 'publicBaseUrl'>, adapter: ProviderAdapter): adapter is ProviderAdapter & Required<Pick<ProviderAdapter, 'findBySubmissionKey'>> =>
  adapter.capabilities.listTasks && Boolean(adapter.findBySubmissionKey) && (!adapter.capabilities.findsOnlyWithCallback || sendsCallbacks(deps, adapter));
export const searchable = (deps: Pick<DispatchJobDeps, 'publicBaseUrl' | 'adapters'>, provider: string) => {
  const adapter = deps.adapters.get(provider);
  return Boolean(adapter && findsBySubmissionKey(deps, adapter));
};
export const canReconcile = (deps: Pick<DispatchJobDeps, 'publicBaseUrl'>, adapter: ProviderAdapter) => adapter.capabilities.idempotencyKey || findsBySubmissionKey(deps, adapter);
export const sendsCallbacks = (deps: Pick<DispatchJobDeps, 'publicBaseUrl'>, adapter: ProviderAdapter) => adapter.capabilities.callbacks && Boolean(deps.publicBaseUrl);
