import { Controller, Get, Inject, Param, Req, Res } from '@nestjs/common';
import { isTerminal } from '@reelay/contracts';
import { toPublicJob } from '@reelay/job-domain';
import type { Request, Response } from 'express';
import { CurrentUser } from '../auth/current-user';
import { jobETag, noneMatchHits } from '../http/etag';
import { JobEstimates } from '../job-estimate/job-estimates';
import { JobsAhead } from '../job-queue/jobs-ahead';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';
import { JobStreamRegistry } from '../job-stream/job-stream-registry';
import { JobReader } from '../jobs/job-reader';
import { preferredWaitSeconds, waitForFinish } from './wait-for-finish';

@Controller('v1/jobs')
export class GetJobController {
  constructor(
    @Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps,
    private readonly jobs: JobReader,
    private readonly estimates: JobEstimates,
    private readonly ahead: JobsAhead,
    private readonly registry: JobStreamRegistry,
  ) {}

  /**
   * Folded from the log on every read, so a client sees its own writes at once; an unfinished job
   * carries its finish-time estimate, one that has not started its place in the queue. With `Prefer: wait=N` an unfinished job is answered once it
   * has finished, or after N seconds (at most 60) as it is then: one request instead of polling.
   */
  @Get(':id')
  async get(@CurrentUser() userId: string, @Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const read = await this.jobs.loadOwned(id, userId);
    let { state } = read;
    const wait = preferredWaitSeconds(req.headers.prefer);
    if (wait > 0) {
      res.setHeader('Vary', 'Prefer');
      const unfinished = !isTerminal(state.status);
      const outcome = unfinished ? await waitForFinish(this.deps, this.registry, { id, userId, version: read.version }, wait, req, res) : 'finished';
      if (outcome === 'gone') return;
      if (outcome !== 'busy') res.setHeader('Preference-Applied', `wait=${wait}`);
      // A job that was unfinished when read is read again once its wait has ended; a finished one is answered as read.
      if (outcome !== 'busy' && unfinished) ({ state } = await this.jobs.loadOwned(id, userId));
    }
    const job = toPublicJob(state);
    const etag = jobETag(job.version);
    res.setHeader('ETag', etag);
    res.setHeader('Cache-Control', 'no-cache');
    if (noneMatchHits(req.headers['if-none-match'], etag)) {
      res.status(304).end();
      return;
    }
    res.status(200).json(await this.ahead.withQueue(await this.estimates.withEstimate(job)));
  }
}
