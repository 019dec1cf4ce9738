import { Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { CancelJobsRequest, detailsFromIssues, type CancelJobsResult } from '@reelay/contracts';
import type { Request } from 'express';
import { CurrentUser } from '../auth/current-user';
import { invalidRequest } from '../errors/api-exception';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';
import { correlationIdOf } from '../http/correlation';
import { readJsonBody } from '../http/read-body';
import { IntakeClient } from '../intake/intake-client';
import { bulkErrorOf, bulkPage, runBulk } from '../jobs/bulk-run';
import { unlessJobListRebuilding } from '../jobs/job-view-sql';
import { bulkCursorScope, decodeCursor, encodeCursor } from '../jobs/job-cursor';
import { OneAtATimePerUser } from '../rate-limit/one-at-a-time';
import { unfinishedJobsMatching } from './unfinished-jobs-query';

/** Jobs one call cancels at most; `hasMore` tells the caller to call again. */
export const CANCEL_BATCH_MAX = 100;
/** Cancels asked of intake at once by one call. */
const CANCELS_IN_FLIGHT = 4;

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
    const scope = bulkCursorScope('cancel', body.data.metadata);
    const after = body.data.cursor === undefined ? undefined : decodeCursor(body.data.cursor, scope);
    if (after === null) throw invalidRequest('The cursor is not valid.', [{ path: 'cursor', message: 'use the nextCursor of an earlier bulk cancel' }]);
    return this.turns.run(userId, async () => {
      // Mid-rebuild the job list lacks unfinished jobs: an empty answer would read as "all canceled".
      await unlessJobListRebuilding(this.deps.dataSource, 'which of your jobs are unfinished');
      const found = await unfinishedJobsMatching(this.deps.dataSource, { userId, metadata: body.data.metadata, limit: CANCEL_BATCH_MAX + 1, after });
      const page = bulkPage(found, CANCEL_BATCH_MAX);
      const correlationId = correlationIdOf(req);
      const { done, refused } = await runBulk(page.jobIds, CANCELS_IN_FLIGHT, (jobId) => this.intake.cancel({ userId, jobId, correlationId }), bulkErrorOf(this.deps.logger, 'a cancel of a bulk cancel'));
      return {
        object: 'job_cancel_batch' as const,
        canceled: done.map((d) => d.item),
        notCanceled: refused.map((r) => ({ id: r.item, error: r.error })),
        hasMore: page.next !== null,
        nextCursor: page.next && encodeCursor(page.next, scope),
      };
    });
  }
}
