import { Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { commandSubjects, detailsFromIssues, TestWebhookRequest, WebhookTestReply, type WebhookTestResult } from '@reelay/contracts';
import type { Request } from 'express';
import { CurrentUser } from '../auth/current-user';
import { ApiException, invalidRequest } from '../errors/api-exception';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';
import { readJsonBody } from '../http/read-body';
import { askService } from '../service-requests/ask-service';

@Controller('v1/webhooks')
export class TestWebhookController {
  /** Users with a test send under way here: one at a time each, so the route cannot fan out requests to a third party. */
  private readonly sending = new Set<string>();

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
    if (this.sending.has(userId)) throw new ApiException('rate_limited', 'A test webhook of yours is still being sent; try again when it has been answered.', { headers: { 'Retry-After': '5' } });
    this.sending.add(userId);
    try {
      // The send itself may take notification's whole webhook timeout: wait for it beyond the usual command time.
      const { result } = await askService<{ result: WebhookTestResult }>(
        this.deps, 'notification', commandSubjects(this.deps.config.NATS_PREFIX).webhookTest, { userId, url: body.data.url }, WebhookTestReply, 2 * this.deps.config.COMMAND_TIMEOUT_MS,
      );
      return result;
    } finally {
      this.sending.delete(userId);
    }
  }
}
