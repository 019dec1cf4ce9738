import type { ApiError } from '@reelay/contracts';
import type { Logger } from '@reelay/service-kit';
import { ApiException } from '../errors/api-exception';
import { genericMessage } from '../errors/error-envelope';

export type BulkOutcome<R> = { ok: true; value: R } | { ok: false; error: ApiError };

/**
 * Runs `each` over `items`, `inFlight` at a time, and answers each item's outcome in the items'
 * order. A service that did not answer one item will not answer the rest in time either: after a
 * `service_unavailable` the items not yet asked get that error unasked.
 */
export async function runBulk<T, R>(items: readonly T[], inFlight: number, each: (item: T) => Promise<R>, errorOf: (err: unknown, item: T) => ApiError): Promise<BulkOutcome<R>[]> {
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
  return outcomes;
}

/** A bulk call's error for one job: the client's error as a single call answers it, anything else logged and answered as internal. */
export function bulkErrorOf(logger: Logger, what: string): (err: unknown, jobId: string) => ApiError {
  return (err, jobId) => {
    if (err instanceof ApiException) return { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) };
    logger.error({ err: String(err), jobId }, `${what} failed`);
    return { code: 'internal_error', message: genericMessage('internal_error') };
  };
}
