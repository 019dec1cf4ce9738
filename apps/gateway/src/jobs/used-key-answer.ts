import type { Job } from '@reelay/contracts';
import { jobIdForIdempotencyKey, requestHash, toPublicJob } from '@reelay/job-domain';
import { ApiException } from '../errors/api-exception';
import type { JobReader } from './job-reader';

/**
 * For a body that fails today's checks: the `Idempotency-Key` is checked first (api.md), so under a
 * key this user has used already, a body hashing like the one the key's job was made from gets that
 * job, any other `409`. Null when there is no key or it is unused: the caller answers `400`.
 * `sameAs` is what the job's request hash was taken of, when the body alone can say (a submit).
 */
export async function answerForUsedKey(jobs: JobReader, userId: string, key: string | undefined, sameAs?: unknown): Promise<Job | null> {
  if (key === undefined) return null;
  const earlier = await jobs.findOwned(jobIdForIdempotencyKey(userId, key), userId);
  if (!earlier) return null;
  const { state } = earlier;
  if (sameAs !== undefined && state.requestHash === requestHash(sameAs)) return toPublicJob(state);
  throw new ApiException('idempotency_conflict', 'This Idempotency-Key was already used with a different request.');
}
