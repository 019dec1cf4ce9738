import { Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import { JobId, type Job } from '@reelay/contracts';
import type { Request } from 'express';
import { CurrentUser } from '../auth/current-user';
import { notFound } from '../errors/api-exception';
import { correlationIdOf } from '../http/correlation';
import { IntakeClient } from '../intake/intake-client';

@Controller('v1/jobs')
export class CancelJobController {
  constructor(private readonly intake: IntakeClient) {}

  /** Intake checks ownership (404) and state (409 invalid_state) against the log. */
  @Post(':id/cancel')
  @HttpCode(202)
  cancel(@CurrentUser() userId: string, @Param('id') id: string, @Req() req: Request): Promise<Job> {
    if (!JobId.safeParse(id).success) throw notFound('job');
    return this.intake.cancel({ userId, jobId: id, correlationId: correlationIdOf(req) });
  }
}
