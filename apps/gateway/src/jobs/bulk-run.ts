import type { ApiError } from '@reelay/contracts';
import type { Logger } from '@reelay/service-kit';
import { ApiException } from '../errors/api-exception';
import { genericMessage } from '../errors/error-envelope';
import type { JobCursor } from './job-cursor';

type BulkOutcome<R> = { ok: true; value: R } | { ok: false; error: ApiError };

/** What a bulk call did, each list in the items' order: the items done with their values, those refused with their errors. */
export interface BulkResult<T, R> {
  done: { item: T; value: R }[];
  refused: { item: T; error: ApiError }[];
}

/**
 * Runs `each` over `items`, `inFlight` at a time. A service that did not answer one item will not
 * answer the rest in time either: after a `service_unavailable` the items not yet asked get that
 * error unasked.
 */
export async function runBulk<T, R>(items: readonly T[], inFlight: number, each: (item: T) => Promise<R>, errorOf: (err: unknown, item: T) => ApiError): Promise<BulkResult<T, R>> {
  const outcomes: BulkOutcome<R>[] = [];
  let next = 0;
  let unavailable: ApiError | null = null;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) {
      if (unavailable) {
        outcomes[i] = { ok: false, error: unavailable };
        continue;
      }
      outcomes[i] = await each(items[i]!).then(
        (value): BulkOutcome<R> => ({ ok: true, value }),
        (err: unknown): BulkOutcome<R> => ({ ok: false, error: errorOf(err, items[i]!) }),
      );
      const outcome = outcomes[i]!;
      if (!outcome.ok && outcome.error.code === 'service_unavailable') unavailable = outcome.error;
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, items.length) }, worker));
  const result: BulkResult<T, R> = { done: [], refused: [] };
  items.forEach((item, i) => {
    const outcome = outcomes[i]!;
    if (outcome.ok) result.done.push({ item, value: outcome.value });
    else result.refused.push({ item, error: outcome.error });
  });
  return result;
}

/** A page of a bulk call from what its query found (one row past `max` when more are left): the jobs, and the position the next call goes on after. */
export function bulkPage(found: readonly JobCursor[], max: number): { jobIds: string[]; next: JobCursor | null } {
  return { jobIds: found.slice(0, max).map((j) => j.jobId), next: found.length > max ? found[max - 1]! : null };
}


/** A bulk call's error for one job: the client's error as a single call answers it, anything else logged and answered as internal. */
export function bulkErrorOf(logger: Logger, what: string): (err: unknown, jobId: string) => ApiError {
  return (err, jobId) => {
    if (err instanceof ApiException) return { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) };
    logger.error({ err: String(err), jobId }, `${what} failed`);
    return { code: 'internal_error', message: genericMessage('internal_error') };
  };
}
