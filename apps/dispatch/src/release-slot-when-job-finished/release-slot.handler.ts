import { releaseSlot } from '../dispatch-when-job-validated/dispatch-job.handler';
import type { ProviderSlots } from '../capacity/provider-slots';
import type { DispatchMetrics } from '../shared/dispatch-metrics';

/** A terminal job gives its capacity slot back; repeats and jobs without a slot change nothing. */
export async function releaseSlotOfFinishedJob(deps: { slots: ProviderSlots; metrics: DispatchMetrics }, jobId: string): Promise<void> {
  await releaseSlot(deps, jobId);
}
