import { Controller, Headers, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { detailsFromIssues, RegenerateJobRequest, SubmitJobRequest, type Job } from '@reelay/contracts';
import type { JobState } from '@reelay/job-domain';
import type { Request, Response } from 'express';
import { CurrentUser } from '../auth/current-user';
import { invalidRequest } from '../errors/api-exception';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';
import { correlationIdOf } from '../http/correlation';
import { jobETag } from '../http/etag';
import { validIdempotencyKey } from '../http/idempotency-key';
import { readOptionalJsonBody } from '../http/read-body';
import { IntakeClient } from '../intake/intake-client';
import { answerForUsedKey } from '../jobs/used-key-answer';
import { JobReader } from '../jobs/job-reader';

/**
 * The settings a job was submitted with, as a submit request (what it was asked, not what came of
 * it), with `changes` made: a null drops the setting.
 */
export function requestOf(job: JobState, changes: RegenerateJobRequest = {}): unknown {
  const request: Record<string, unknown> = {
    model: job.model,
    prompt: job.prompt,
    aspectRatio: job.aspectRatio,
    durationSeconds: job.durationSeconds,
    ...(job.resolution ? { resolution: job.resolution } : {}),
    ...(job.seed !== null ? { seed: job.seed } : {}),
    ...(job.negativePrompt !== null ? { negativePrompt: job.negativePrompt } : {}),
    ...(job.referenceImage ? { referenceImage: job.referenceImage } : {}),
    ...(job.webhookUrl ? { webhookUrl: job.webhookUrl } : {}),
    ...(job.webhookEvents ? { webhookEvents: job.webhookEvents } : {}),
    metadata: job.metadata,
    ...(job.cancelAfterSeconds !== null ? { cancelAfterSeconds: job.cancelAfterSeconds } : {}),
  };
  for (const [field, value] of Object.entries(changes)) {
    if (value === null) delete request[field];
    else if (value !== undefined) request[field] = value;
  }
  return request;
}

/**
 * Submits a new job with the settings of `parent` and `changes`, linked to it by `parentJobId`
 * (regenerate, and the OpenAI-compatible remix). Intake checks and charges it like a submit.
 */
export async function submitAgain(
  intake: IntakeClient,
  jobs: JobReader,
  parent: JobState,
  changes: RegenerateJobRequest,
  command: { userId: string; idempotencyKey?: string; correlationId: string },
): Promise<Job> {
  const request = requestOf(parent, changes);
  const parsed = SubmitJobRequest.safeParse(request);
  if (!parsed.success) {
    // Settings that passed when the key's job was made may fail today's checks: the key is checked first.
    const earlier = await answerForUsedKey(jobs, command.userId, command.idempotencyKey, { ...(request as object), parentJobId: parent.jobId });
    if (earlier) return earlier;
    throw invalidRequest('This job cannot be generated again as it was submitted.', detailsFromIssues(parsed.error.issues));
  }
  return intake.submit({ ...command, request: parsed.data, parentJobId: parent.jobId });
}

@Controller('v1/jobs')
export class RegenerateJobController {
  constructor(
    @Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps,
    private readonly jobs: JobReader,
    private readonly intake: IntakeClient,
  ) {}

  /**
   * A new job with the settings of one of the user's jobs (finished or not), charged like a new
   * submit and linked to it by `parentJobId`. An optional body changes the model (so the provider),
   * duration, aspect ratio, resolution, seed or reference image (null drops one of the last three). Intake checks the settings again, as for a submit: a model
   * retired since answers 400, settings it no longer supports (or the new model does not) 422.
   */
  @Post(':id/regenerate')
  @HttpCode(202)
  async regenerate(
    @CurrentUser() userId: string,
    @Param('id') id: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
    @Headers('idempotency-key') idempotencyKey?: string,
  ): Promise<Job> {
    const key = validIdempotencyKey(idempotencyKey);
    const body = await readOptionalJsonBody(req, this.deps.config.JSON_BODY_LIMIT_BYTES);
    const changes = RegenerateJobRequest.safeParse(body === undefined ? {} : body);
    if (!changes.success) {
      // A key's request hash is of the settings the body made, which a body failing the checks cannot say: another request.
      await answerForUsedKey(this.jobs, userId, key);
      throw invalidRequest('The request body is not valid.', detailsFromIssues(changes.error.issues));
    }
    const { state } = await this.jobs.loadOwned(id, userId);
    const job = await submitAgain(this.intake, this.jobs, state, changes.data, { userId, idempotencyKey: key, correlationId: correlationIdOf(req) });
    res.setHeader('ETag', jobETag(job.version));
    res.setHeader('Location', `/v1/jobs/${job.id}`);
    return job;
  }
}
