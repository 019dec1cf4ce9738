import { Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { CancelJobsRequest, detailsFromIssues, type ApiError, type CancelJobsResult, type JobMetadata } from '@reelay/contracts';
import type { Request } from 'express';
import { CurrentUser } from '../auth/current-user';
import { ApiException, invalidRequest } from '../errors/api-exception';
import { genericMessage } from '../errors/error-envelope';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';
import { correlationIdOf } from '../http/correlation';
import { readJsonBody } from '../http/read-body';
import { IntakeClient } from '../intake/intake-client';
import { decodeCursor, encodeCursor } from '../jobs/job-cursor';
import { jobViewTooFarBehind } from '../jobs/job-view-sql';
import { OneAtATimePerUser } from '../rate-limit/one-at-a-time';
import { unfinishedJobsMatching } from './unfinished-jobs-query';

/** Jobs one call cancels at most; `hasMore` tells the caller to call again. */
export const CANCEL_BATCH_MAX = 100;
/** Cancels asked of intake at once by one call. */
const CANCELS_IN_FLIGHT = 4;

/** Names the metadata a bulk cancel matched on, in any key order: its cursors' scope. */
function cursorScope(metadata: JobMetadata): string {
  const pairs = Object.keys(metadata).sort().map((k) => [k, metadata[k]]);
  return `cancel:${createHash('sha256').update(JSON.stringify(pairs)).digest('base64url').slice(0, 16)}`;
}

@Controller('v1/jobs')
export class CancelJobsController {
  /** One bulk cancel at a time per user, so calls cannot pile cancels on intake. */
  private readonly turns = new OneAtATimePerUser('A bulk cancel of yours is still under way; try again when it has been answered.');

  constructor(
    @Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps,
    private readonly intake: IntakeClient,
  ) {}

  /**
   * Cancels the user's unfinished jobs whose metadata holds every given pair, each as its own cancel
   * would (intake checks it against the log), and answers what became of each.
   */
  @Post('cancel')
  @HttpCode(200)
  async cancelMatching(@CurrentUser() userId: string, @Req() req: Request): Promise<CancelJobsResult> {
    const body = CancelJobsRequest.safeParse(await readJsonBody(req, this.deps.config.JSON_BODY_LIMIT_BYTES));
    if (!body.success) throw invalidRequest('The request body is not valid.', detailsFromIssues(body.error.issues));
    // A cursor goes on only the bulk cancel of the same metadata that made it (oldest first, unlike the list's).
    const scope = cursorScope(body.data.metadata);
    const after = body.data.cursor === undefined ? undefined : decodeCursor(body.data.cursor, scope);
    if (after === null) throw invalidRequest('The cursor is not valid.', [{ path: 'cursor', message: 'use the nextCursor of an earlier bulk cancel' }]);
    return this.turns.run(userId, async () => {
      // Mid-rebuild the job list lacks unfinished jobs: an empty answer would read as "all canceled".
      if (await jobViewTooFarBehind(this.deps.dataSource)) {
        throw new ApiException('service_unavailable', 'The job list is being rebuilt, so it cannot tell yet which of your jobs are unfinished. Try again in a minute.', { headers: { 'Retry-After': '60' } });
      }
      const found = await unfinishedJobsMatching(this.deps.dataSource, { userId, metadata: body.data.metadata, limit: CANCEL_BATCH_MAX + 1, after });
      const batch = found.slice(0, CANCEL_BATCH_MAX).map((j) => j.jobId);
      const hasMore = found.length > CANCEL_BATCH_MAX;
      const correlationId = correlationIdOf(req);
      // Each job's error, or null once canceled; kept by position so the answer lists jobs oldest first.
      const errors: (ApiError | null)[] = [];
      let next = 0;
      // Intake not answering one cancel will not answer the rest in time either: they are reported unasked.
      let unavailable: ApiError | null = null;
      const worker = async () => {
        for (let i = next++; i < batch.length; i = next++) {
          if (unavailable) {
            errors[i] = unavailable;
            continue;
          }
          errors[i] = await this.intake.cancel({ userId, jobId: batch[i]!, correlationId }).then(
            () => null,
            (err: unknown) => this.errorOf(err, batch[i]!),
          );
          if (errors[i]?.code === 'service_unavailable') unavailable = errors[i]!;
        }
      };
      await Promise.all(Array.from({ length: Math.min(CANCELS_IN_FLIGHT, batch.length) }, worker));
      return {
        object: 'job_cancel_batch' as const,
        canceled: batch.filter((_, i) => errors[i] === null),
        notCanceled: batch.flatMap((id, i) => (errors[i] ? [{ id, error: errors[i] }] : [])),
        hasMore,
        nextCursor: hasMore ? encodeCursor(found[CANCEL_BATCH_MAX - 1]!, scope) : null,
      };
    });
  }

  private errorOf(err: unknown, jobId: string): ApiError {
    if (err instanceof ApiException) return { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) };
    this.deps.logger.error({ err: String(err), jobId }, 'a cancel of a bulk cancel failed');
    return { code: 'internal_error', message: genericMessage('internal_error') };
  }
}
