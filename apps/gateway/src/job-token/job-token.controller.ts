import { Controller, HttpCode, Inject, Param, Post, Req } from '@nestjs/common';
import { detailsFromIssues, JobTokenRequest, type JobToken } from '@reelay/contracts';
import type { Request } from 'express';
import { CurrentUser, ReadKeyAllowed, type AuthenticatedRequest } from '../auth/current-user';
import { ApiException, invalidRequest } from '../errors/api-exception';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';
import { readOptionalJsonBody } from '../http/read-body';
import { JobReader } from '../jobs/job-reader';
import { jobTokenSecret, signJobToken } from './job-token';

const DEFAULT_TTL_S = 15 * 60;

@Controller('v1/jobs')
export class JobTokenController {
  private readonly secret: string | null;

  constructor(
    @Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps,
    private readonly jobs: JobReader,
  ) {
    this.secret = jobTokenSecret(deps.config);
  }

  /** A token that reads this one job (its stream, video and poster) without the API key, for the client's end users' browsers. */
  @Post(':id/token')
  @ReadKeyAllowed()
  @HttpCode(201)
  async token(@CurrentUser() userId: string, @Param('id') id: string, @Req() req: Request): Promise<JobToken> {
    const body = JobTokenRequest.safeParse((await readOptionalJsonBody(req, this.deps.config.JSON_BODY_LIMIT_BYTES)) ?? {});
    if (!body.success) throw invalidRequest('The request body is not valid.', detailsFromIssues(body.error.issues));
    await this.jobs.loadOwned(id, userId); // 404 for another user's job
    const { secret } = this;
    if (!secret) throw new ApiException('service_unavailable', 'Job tokens are not set up on this server (JOB_TOKEN_SECRET or WEBHOOK_MASTER_SECRET).');
    // Never past the asking key's own expiry: what a key hands out must not outlive it.
    const asked = Math.floor(Date.now() / 1000 + (body.data.expiresInSeconds ?? DEFAULT_TTL_S)) * 1000;
    const keyEnds = (req as AuthenticatedRequest).credentialExpiresAt?.getTime() ?? Infinity;
    const expiresAt = new Date(Math.min(asked, Math.floor(keyEnds / 1000) * 1000));
    const token = signJobToken(secret, id, { userId, expiresAt });
    const query = `token=${encodeURIComponent(token)}`;
    return { token, expiresAt: expiresAt.toISOString(), streamUrl: `/v1/jobs/${id}/stream?${query}`, contentUrl: `/v1/jobs/${id}/content?${query}`, posterUrl: `/v1/jobs/${id}/poster?${query}` };
  }
}
