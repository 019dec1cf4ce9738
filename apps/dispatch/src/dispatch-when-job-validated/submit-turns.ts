import type { DispatchJobDeps, DispatchOutcome } from './dispatch-job.deps';
import { assertHeld, type SubmitLease } from './submit-locks';

/**
 * Waits for a turn under the provider's submit cap (PROVIDER_MAX_SUBMITS_PER_MINUTE_<PROVIDER>):
 * null when the submit may go now, else when to deliver the job again. A failover's turn is waited
 * for in this handler instead: handed back, the next delivery would go to the refusing provider again.
 */
export async function waitForSubmitTurn(deps: DispatchJobDeps, lease: SubmitLease, jobId: string, provider: string, inHandler: boolean): Promise<DispatchOutcome | null> {
  if (!deps.submitBudgets) return null;
  for (;;) {
    const token = await deps.submitBudgets.take(provider);
    if (token.taken) return null;
    // Spread out, so the jobs waiting for one token do not all ask for it at the same moment.
    const delayMs = Math.round(token.waitMs * (1 + Math.random())) + 50;
    if (!inHandler) return { kind: 'later', delayMs, why: 'capacity' };
    await new Promise((r) => setTimeout(r, delayMs));
    assertHeld(lease, jobId);
  }
}

export function capacityWait(deps: DispatchJobDeps): DispatchOutcome {
  // Jitter spreads the waiting jobs so they do not all knock at once when a slot frees up.
  return { kind: 'later', delayMs: Math.round(deps.capacityWaitMs * (0.5 + Math.random())), why: 'capacity' };
}
