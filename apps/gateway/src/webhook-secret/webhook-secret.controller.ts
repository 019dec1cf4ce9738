import { Controller, Get, Header, Inject } from '@nestjs/common';
import { webhookSecretFor } from '@reelay/accounts';
import { CurrentUser } from '../auth/current-user';
import { ApiException } from '../errors/api-exception';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';

@Controller('v1/webhooks')
export class WebhookSecretController {
  constructor(@Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps) {}

  @Get('secret')
  @Header('Cache-Control', 'no-store')
  secret(@CurrentUser() userId: string): { secret: string } {
    const master = this.deps.config.WEBHOOK_MASTER_SECRET;
    if (!master) throw new ApiException('service_unavailable', 'Webhook signing is not configured on this server.');
    return { secret: webhookSecretFor(master, userId) };
  }
}
