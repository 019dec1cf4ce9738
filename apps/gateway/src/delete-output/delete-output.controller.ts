import { Controller, Delete, Param, Req, Res } from '@nestjs/common';
import { JobId, type Job } from '@reelay/contracts';
import type { Request, Response } from 'express';
import { CurrentUser } from '../auth/current-user';
import { notFound } from '../errors/api-exception';
import { correlationIdOf } from '../http/correlation';
import { jobETag } from '../http/etag';
import { IntakeClient } from '../intake/intake-client';

@Controller('v1/jobs')
export class DeleteOutputController {
  constructor(private readonly intake: IntakeClient) {}

  /** Intake checks ownership (404) and that the job succeeded (409 invalid_state); a second call answers the same job. */
  @Delete(':id/output')
  async deleteOutput(@CurrentUser() userId: string, @Param('id') id: string, @Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<Job> {
    if (!JobId.safeParse(id).success) throw notFound('job');
    const job = await this.intake.deleteOutput({ userId, jobId: id, correlationId: correlationIdOf(req) });
    res.setHeader('ETag', jobETag(job.version));
    return job;
  }
}
