import type { ProviderSlots } from '../capacity/provider-slots';

/** A terminal job gives its capacity slot back; repeats and jobs without a slot change nothing. */
export async function releaseSlotOfFinishedJob(deps: { slots: ProviderSlots }, jobId: string): Promise<void> {
  await deps.slots.release(jobId);
}
