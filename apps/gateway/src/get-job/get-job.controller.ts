import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import { toPublicJob } from '@reelay/job-domain';
import type { Request, Response } from 'express';
import { CurrentUser } from '../auth/current-user';
import { jobETag, noneMatchHits } from '../http/etag';
import { JobEstimates } from '../job-estimate/job-estimates';
import { JobReader } from '../jobs/job-reader';

@Controller('v1/jobs')
export class GetJobController {
  constructor(
    private readonly jobs: JobReader,
    private readonly estimates: JobEstimates,
  ) {}

  /** Folded from the log on every read, so a client sees its own writes at once; an unfinished job carries its finish-time estimate. */
  @Get(':id')
  async get(@CurrentUser() userId: string, @Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const job = toPublicJob((await this.jobs.loadOwned(id, userId)).state);
    const etag = jobETag(job.version);
    res.setHeader('ETag', etag);
    res.setHeader('Cache-Control', 'no-cache');
    if (noneMatchHits(req.headers['if-none-match'], etag)) {
      res.status(304).end();
      return;
    }
    res.status(200).json(await this.estimates.withEstimate(job));
  }
}
