import { SpanKind, withSpan } from '@reelay/service-kit';
import { isProviderError } from '@reelay/providers';
import type { PollingDeps } from '../polling.deps';
import { loadJob } from '../shared/job-stream';

/**
 * On JobCanceled (and JobFailed by `provider_timeout`): the job has ended for the user; ask the provider to stop too where
 * it can (best effort: a refusal, e.g. Ark will not cancel a running task, is only logged), and
 * stop following the job.
 */
export async function cancelAtProvider(deps: Pick<PollingDeps, 'store' | 'schedule' | 'adapters' | 'logger' | 'metrics'>, jobId: string): Promise<void> {
  const job = await loadJob(deps.store, jobId);
  const row = await deps.schedule.find(jobId);
  const provider = job.providerTaskId ? job.provider : row?.provider;
  const taskId = job.providerTaskId ?? row?.providerTaskId;
  const adapter = provider ? deps.adapters.get(provider) : undefined;
  if (taskId && adapter?.capabilities.cancel && adapter.cancel) {
    const end = deps.metrics.shared.providerCalls.startTimer({ provider: adapter.name, operation: 'cancel' });
    try {
      await withSpan(`${adapter.name} cancel`, { kind: SpanKind.CLIENT, attributes: { 'reelay.provider': adapter.name, 'reelay.provider.operation': 'cancel' } }, () => adapter.cancel!(taskId));
      end({ outcome: 'ok' });
      deps.logger.info({ provider: adapter.name }, 'canceled at the provider');
    } catch (err) {
      const kind = isProviderError(err) ? err.kind : 'error';
      end({ outcome: kind });
      deps.metrics.shared.providerErrors.inc({ provider: adapter.name, kind });
      deps.logger.warn({ provider: adapter.name, kind, detail: isProviderError(err) ? err.detail : (err as Error).message }, 'provider cancel refused or failed');
    }
  }
  await deps.schedule.remove(jobId);
}
