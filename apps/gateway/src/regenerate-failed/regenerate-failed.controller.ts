import { Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { detailsFromIssues, RegenerateFailedRequest, type RegenerateFailedResult } from '@reelay/contracts';
import type { Request } from 'express';
import { CurrentUser } from '../auth/current-user';
import { invalidRequest } from '../errors/api-exception';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';
import { correlationIdOf } from '../http/correlation';
import { RESERVED_KEY_PREFIX } from '../http/idempotency-key';
import { readJsonBody } from '../http/read-body';
import { IntakeClient } from '../intake/intake-client';
import { bulkErrorOf, bulkPage, runBulk } from '../jobs/bulk-run';
import { bulkCursorScope, decodeCursorCarrying, encodeCursor } from '../jobs/job-cursor';
import { JobReader } from '../jobs/job-reader';
import { unlessJobListRebuilding } from '../jobs/job-view-sql';
import { OneAtATimePerUser } from '../rate-limit/one-at-a-time';
import { submitAgain } from '../regenerate-job/regenerate-job.controller';
import { failedJobsToRegenerate } from './failed-jobs-query';

/** Failed jobs one call generates again at most; `hasMore` tells the caller to call again. */
export const REGENERATE_BATCH_MAX = 100;
/** Submits asked of intake at once by one call. */
const SUBMITS_IN_FLIGHT = 4;

/**
 * The key of the new job for a failed job: one per failed job, whichever call asks (on any
 * gateway, while the job list still trails the first one's new jobs), so this route never makes
 * two jobs for one failed job.
 */
const childKey = (parentJobId: string) => `${RESERVED_KEY_PREFIX}${parentJobId}`;

/**
 * A sweep takes only jobs created before it began, so the jobs its own calls make (newer than every
 * job it goes through) are not taken by its later pages should they fail meanwhile. The margin covers
 * clocks: a job's creation time is intake's, the sweep's start the gateway's.
 */
const SWEEP_CLOCK_MARGIN_MS = 2_000;

/**
 * How far ahead of this gateway's clock a cursor's sweep start may be: the cursor may come from
 * another replica whose clock runs ahead. Further than that it was edited.
 */
const CURSOR_CLOCK_SKEW_MS = 5 * 60_000;

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
   * Generates again each of the user's failed jobs whose metadata holds every given pair, that no
   * job repeats yet and that was created before the sweep began, as its own regenerate would
   * (checked and charged like a submit), and answers what became of each.
   */
  @Post('regenerate-failed')
  @HttpCode(200)
  async regenerateFailed(@CurrentUser() userId: string, @Req() req: Request): Promise<RegenerateFailedResult> {
    const body = RegenerateFailedRequest.safeParse(await readJsonBody(req, this.deps.config.JSON_BODY_LIMIT_BYTES));
    if (!body.success) throw invalidRequest('The request body is not valid.', detailsFromIssues(body.error.issues));
    const { metadata, retryableOnly } = body.data;
    // A cursor goes on only a sweep of the same metadata and choice, and carries when that sweep began.
    const scope = `${bulkCursorScope('regenerate', metadata, retryableOnly)}@`;
    const resumed = body.data.cursor === undefined ? undefined : decodeCursorCarrying(body.data.cursor, scope);
    const sweptBefore = resumed ? Number(resumed.carried) : Date.now() - SWEEP_CLOCK_MARGIN_MS;
    // A cursor carries a sweep's start, a past moment on the clock of the replica that made it: anything else was edited (and PostgreSQL would refuse the date).
    if (resumed === null || !Number.isSafeInteger(sweptBefore) || sweptBefore < 0 || sweptBefore > Date.now() + CURSOR_CLOCK_SKEW_MS) {
      throw invalidRequest('The cursor is not valid.', [{ path: 'cursor', message: 'use the nextCursor of an earlier bulk regenerate with the same metadata and retryableOnly' }]);
    }
    const after = resumed?.cursor;
    return this.turns.run(userId, async () => {
      // Mid-rebuild the job list lacks new jobs: a failed job generated again would look untouched.
      await unlessJobListRebuilding(this.deps.dataSource, 'which of your failed jobs were generated again');
      const found = await failedJobsToRegenerate(this.deps.dataSource, { userId, metadata, retryableOnly, createdBefore: new Date(sweptBefore), limit: REGENERATE_BATCH_MAX + 1, after });
      const page = bulkPage(found, REGENERATE_BATCH_MAX);
      const correlationId = correlationIdOf(req);
      const regenerate = async (parentJobId: string) => {
        const { state } = await this.jobs.loadOwned(parentJobId, userId);
        return submitAgain(this.intake, this.jobs, state, {}, { userId, idempotencyKey: childKey(parentJobId), correlationId });
      };
      const { done, refused } = await runBulk(page.jobIds, SUBMITS_IN_FLIGHT, regenerate, bulkErrorOf(this.deps.logger, 'a regenerate of a bulk regenerate'));
      return {
        object: 'job_regenerate_batch' as const,
        created: done.map((d) => ({ parentJobId: d.item, job: d.value })),
        notCreated: refused.map((r) => ({ parentJobId: r.item, error: r.error })),
        hasMore: page.next !== null,
        nextCursor: page.next && encodeCursor(page.next, `${scope}${sweptBefore}`),
      };
    });
  }
}
