import type { DispatchJobDeps, DispatchOutcome } from './dispatch-job.deps';

/**
 * Waits for a turn under the provider's submit cap (PROVIDER_MAX_SUBMITS_PER_MINUTE_<PROVIDER>):
 * null when the submit may go now, else when to deliver the job again (a failover's next provider
 * is in the log, so that delivery goes there too).
 */
export async function waitForSubmitTurn(deps: DispatchJobDeps, provider: string): Promise<DispatchOutcome | null> {
  if (!deps.submitBudgets) return null;
  const token = await deps.submitBudgets.take(provider);
  if (token.taken) return null;
  // Spread out, so the jobs waiting for one token do not all ask for it at the same moment.
  return { kind: 'later', delayMs: Math.round(token.waitMs * (1 + Math.random())) + 50, why: 'capacity' };
}

export function capacityWait(deps: DispatchJobDeps): DispatchOutcome {
  // Jitter spreads the waiting jobs so they do not all knock at once when a slot frees up.
  return { kind: 'later', delayMs: Math.round(deps.capacityWaitMs * (0.5 + Math.random())), why: 'capacity' };
}
