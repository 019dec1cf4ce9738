import { Controller, Get, Header, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { commandSubjects, detailsFromIssues, RotateWebhookSecretRequest, WebhookSecretReply, type WebhookSecret } from '@reelay/contracts';
import type { Request } from 'express';
import { CurrentUser, FullScopeOnly } from '../auth/current-user';
import { invalidRequest } from '../errors/api-exception';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';
import { readOptionalJsonBody } from '../http/read-body';
import { askService } from '../service-requests/ask-service';

/** The user's webhook signing secret, kept by notification (which signs): shown and rotated by asking it. */
@Controller('v1/webhooks')
export class WebhookSecretController {
  constructor(@Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps) {}

  /** Not for read keys: whoever holds the secret can sign webhooks the user's receivers accept as ours. */
  @Get('secret')
  @FullScopeOnly()
  @Header('Cache-Control', 'no-store')
  async secret(@CurrentUser() userId: string): Promise<WebhookSecret> {
    const subject = commandSubjects(this.deps.config.NATS_PREFIX).webhookSecret;
    return (await askService<{ secret: WebhookSecret }>(this.deps, 'notification', subject, { userId }, WebhookSecretReply)).secret;
  }

  /** A new secret at once; webhooks are signed under the old one too for `keepPreviousForSeconds` (a day unless given). */
  @Post('secret/rotate')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  async rotate(@CurrentUser() userId: string, @Req() req: Request): Promise<WebhookSecret> {
    const body = RotateWebhookSecretRequest.safeParse((await readOptionalJsonBody(req, this.deps.config.JSON_BODY_LIMIT_BYTES)) ?? {});
    if (!body.success) throw invalidRequest('The request body is not valid.', detailsFromIssues(body.error.issues));
    const subject = commandSubjects(this.deps.config.NATS_PREFIX).rotateWebhookSecret;
    return (await askService<{ secret: WebhookSecret }>(this.deps, 'notification', subject, { userId, ...body.data }, WebhookSecretReply)).secret;
  }
}
