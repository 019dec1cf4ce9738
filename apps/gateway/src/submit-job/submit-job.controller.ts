import { Controller, Headers, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { detailsFromIssues, SubmitJobRequest, type Job } from '@reelay/contracts';
import type { Request, Response } from 'express';
import { CurrentUser } from '../auth/current-user';
import { invalidRequest } from '../errors/api-exception';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';
import { correlationIdOf } from '../http/correlation';
import { jobETag } from '../http/etag';
import { validIdempotencyKey } from '../http/idempotency-key';
import { readJsonBody } from '../http/read-body';
import { IntakeClient } from '../intake/intake-client';
import { JobReader } from '../jobs/job-reader';
import { answerForUsedKey } from '../jobs/used-key-answer';

@Controller('v1/jobs')
export class SubmitJobController {
  constructor(
    @Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps,
    private readonly intake: IntakeClient,
    private readonly jobs: JobReader,
  ) {}

  @Post()
  @HttpCode(202)
  async submit(
    @CurrentUser() userId: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
    @Headers('idempotency-key') idempotencyKey?: string,
  ): Promise<Job> {
    const key = validIdempotencyKey(idempotencyKey);
    const body = await readJsonBody(req, this.deps.config.JSON_BODY_LIMIT_BYTES);
    const parsed = SubmitJobRequest.safeParse(body);
    if (!parsed.success) {
      const replay = await answerForUsedKey(this.jobs, userId, key, body);
      if (!replay) throw invalidRequest('The request body is not valid.', detailsFromIssues(parsed.error.issues));
      return this.answered(res, replay);
    }
    return this.answered(res, await this.intake.submit({ userId, request: parsed.data, idempotencyKey: key, correlationId: correlationIdOf(req) }));
  }

  private answered(res: Response, job: Job): Job {
    res.setHeader('ETag', jobETag(job.version));
    res.setHeader('Location', `/v1/jobs/${job.id}`);
    return job;
  }
}
