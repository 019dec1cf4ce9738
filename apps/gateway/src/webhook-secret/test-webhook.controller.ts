import { Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { commandSubjects, detailsFromIssues, TestWebhookRequest, WebhookTestReply, type WebhookTestResult } from '@reelay/contracts';
import type { Request } from 'express';
import { CurrentUser } from '../auth/current-user';
import { invalidRequest } from '../errors/api-exception';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';
import { readJsonBody } from '../http/read-body';
import { OneAtATimePerUser } from '../rate-limit/one-at-a-time';
import { askService } from '../service-requests/ask-service';

@Controller('v1/webhooks')
export class TestWebhookController {
  /** One test send at a time per user, so the route cannot fan out requests to a third party. */
  private readonly turns = new OneAtATimePerUser('A test webhook of yours is still being sent; try again when it has been answered.');

  constructor(@Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps) {}

  /**
   * Sends one signed test event to the URL now, as the user's webhooks are sent (notification signs
   * and sends it), and answers what the receiver did: for setting up and checking an endpoint.
   * An address webhooks are never sent to is answered as that attempt's refusal (`refused`).
   */
  @Post('test')
  @HttpCode(200)
  async test(@CurrentUser() userId: string, @Req() req: Request): Promise<WebhookTestResult> {
    const body = TestWebhookRequest.safeParse(await readJsonBody(req, this.deps.config.JSON_BODY_LIMIT_BYTES));
    if (!body.success) throw invalidRequest('The request body is not valid.', detailsFromIssues(body.error.issues));
    return this.turns.run(userId, async () => {
      // The send itself may take notification's whole webhook timeout: wait for it beyond the usual command time.
      const { result } = await askService<{ result: WebhookTestResult }>(
        this.deps, 'notification', commandSubjects(this.deps.config.NATS_PREFIX).webhookTest, { userId, url: body.data.url }, WebhookTestReply, 2 * this.deps.config.COMMAND_TIMEOUT_MS,
      );
      return result;
    });
  }
}
