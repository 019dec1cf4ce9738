import type { JobState } from '@reelay/job-domain';
import type { LinePlace } from '../capacity/provider-slots';
import type { DispatchJobDeps } from './dispatch-job.deps';
import type { SubmissionHistory } from './submission-history';
import { takesReferenceImage } from './submit-request';

/**
 * The next provider for a job its provider refused for good: one of its model's providers the job
 * was never sent to, that can take its reference image, is not retired there, whose circuit lets it
 * through and that has a free slot (taken here; the job's slot moves to it). Null when there is none,
 * and the job fails as it would with one provider: a failover never waits for capacity.
 */
export async function failoverProvider(deps: DispatchJobDeps, job: JobState, history: SubmissionHistory): Promise<string | null> {
  const untried = providersFor(deps, job).candidates.filter((p) => !history.providers.includes(p) && !deps.catalog.atProvider(job.model, p)?.retiredOn);
  return deps.slots.forUser(job.userId, job.jobId, async () => {
    // One provider at a time: asking a half-open circuit claims its probe, which only the provider chosen should use.
    // Outside the waiting lines: the job had its turn, and its slot moves with it.
    for (const p of untried) {
      if (!(await deps.circuit.allows(p))) continue;
      if (await takeSlot(deps, job.jobId, p, null)) return p;
      await deps.circuit.returnProbe(p);
    }
    return null;
  });
}

/** The configured providers of the job's model, in the catalog's order, and those of them that can take its reference image. */
export function providersFor(deps: DispatchJobDeps, job: JobState): { serving: string[]; candidates: string[] } {
  const serving = (deps.catalog.get(job.model)?.providers ?? []).filter((p) => deps.adapters.has(p));
  return { serving, candidates: serving.filter((p) => takesReferenceImage(deps, job, deps.adapters.get(p)!)) };
}

/** The job's place in a full provider's waiting line: by its submit time, so it keeps it whichever delivery asks. */
export function linePlace(job: JobState): LinePlace {
  return { since: new Date(job.createdAt ?? 0), priority: 0 };
}

export async function takeSlot(deps: DispatchJobDeps, jobId: string, provider: string, line: LinePlace | null): Promise<boolean> {
  const slot = await deps.slots.acquire(jobId, provider, line);
  // Exact at this moment (counted under the slot lock); releases show at the periodic refresh.
  if (slot.acquired) deps.metrics.inFlight.set({ provider }, slot.inUse);
  return slot.acquired;
}
