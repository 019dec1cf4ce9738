import { Controller, Headers, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { detailsFromIssues, RegenerateFailedRequest, type RegenerateFailedResult } from '@reelay/contracts';
import type { Request } from 'express';
import { CurrentUser } from '../auth/current-user';
import { ApiException, invalidRequest } from '../errors/api-exception';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';
import { correlationIdOf } from '../http/correlation';
import { validIdempotencyKey } from '../http/idempotency-key';
import { readJsonBody } from '../http/read-body';
import { IntakeClient } from '../intake/intake-client';
import { bulkErrorOf, runBulk } from '../jobs/bulk-run';
import { bulkCursorScope, decodeCursor, encodeCursor } from '../jobs/job-cursor';
import { JobReader } from '../jobs/job-reader';
import { jobViewTooFarBehind } from '../jobs/job-view-sql';
import { OneAtATimePerUser } from '../rate-limit/one-at-a-time';
import { submitAgain } from '../regenerate-job/regenerate-job.controller';
import { failedJobsToRegenerate } from './failed-jobs-query';

/** Failed jobs one call generates again at most; `hasMore` tells the caller to call again. */
export const REGENERATE_BATCH_MAX = 100;
/** Submits asked of intake at once by one call. */
const SUBMITS_IN_FLIGHT = 4;

/**
 * The key of the new job for `parentJobId` under the call's Idempotency-Key: the same call made
 * again makes no second job for any failed job, whatever it answered before.
 */
const childKey = (key: string, parentJobId: string) => `regenerate-failed:${createHash('sha256').update(key).digest('base64url').slice(0, 22)}:${parentJobId}`;

@Controller('v1/jobs')
export class RegenerateFailedController {
  /** One bulk regenerate at a time per user, so calls cannot pile submits on intake. */
  private readonly turns = new OneAtATimePerUser('A bulk regenerate of yours is still under way; try again when it has been answered.');

  constructor(
    @Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps,
    private readonly intake: IntakeClient,
    private readonly jobs: JobReader,
  ) {}

  /**
   * Generates again each of the user's failed jobs whose metadata holds every given pair and that
   * no job repeats yet, as its own regenerate would (checked and charged like a submit), and
   * answers what became of each.
   */
  @Post('regenerate-failed')
  @HttpCode(200)
  async regenerateFailed(@CurrentUser() userId: string, @Req() req: Request, @Headers('idempotency-key') idempotencyKey?: string): Promise<RegenerateFailedResult> {
    const key = validIdempotencyKey(idempotencyKey);
    const body = RegenerateFailedRequest.safeParse(await readJsonBody(req, this.deps.config.JSON_BODY_LIMIT_BYTES));
    if (!body.success) throw invalidRequest('The request body is not valid.', detailsFromIssues(body.error.issues));
    if (!key) {
      throw invalidRequest('A bulk regenerate needs an Idempotency-Key header: a retry without one would make every job again.', [
        { path: 'Idempotency-Key', message: 'required on this route' },
      ]);
    }
    const { metadata, retryableOnly } = body.data;
    const scope = bulkCursorScope('regenerate', metadata, retryableOnly);
    const after = body.data.cursor === undefined ? undefined : decodeCursor(body.data.cursor, scope);
    if (after === null) throw invalidRequest('The cursor is not valid.', [{ path: 'cursor', message: 'use the nextCursor of an earlier bulk regenerate with the same metadata and retryableOnly' }]);
    return this.turns.run(userId, async () => {
      // Mid-rebuild the job list lacks new jobs: a failed job generated again would look untouched.
      if (await jobViewTooFarBehind(this.deps.dataSource)) {
        throw new ApiException('service_unavailable', 'The job list is being rebuilt, so it cannot tell yet which of your failed jobs were generated again. Try again in a minute.', { headers: { 'Retry-After': '60' } });
      }
      const found = await failedJobsToRegenerate(this.deps.dataSource, { userId, metadata, retryableOnly, limit: REGENERATE_BATCH_MAX + 1, after });
      const batch = found.slice(0, REGENERATE_BATCH_MAX).map((j) => j.jobId);
      const hasMore = found.length > REGENERATE_BATCH_MAX;
      const correlationId = correlationIdOf(req);
      const regenerate = async (parentJobId: string) => {
        const { state } = await this.jobs.loadOwned(parentJobId, userId);
        return submitAgain(this.intake, this.jobs, state, {}, { userId, idempotencyKey: childKey(key, parentJobId), correlationId });
      };
      const outcomes = await runBulk(batch, SUBMITS_IN_FLIGHT, regenerate, bulkErrorOf(this.deps.logger, 'a regenerate of a bulk regenerate'));
      return {
        object: 'job_regenerate_batch' as const,
        created: batch.flatMap((parentJobId, i) => {
          const outcome = outcomes[i]!;
          return outcome.ok ? [{ parentJobId, job: outcome.value }] : [];
        }),
        notCreated: batch.flatMap((parentJobId, i) => {
          const outcome = outcomes[i]!;
          return outcome.ok ? [] : [{ parentJobId, error: outcome.error }];
        }),
        hasMore,
        nextCursor: hasMore ? encodeCursor(found[REGENERATE_BATCH_MAX - 1]!, scope) : null,
      };
    });
  }
}
