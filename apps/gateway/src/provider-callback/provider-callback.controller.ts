import { Controller, HttpCode, Inject, Param, Post, Req } from '@nestjs/common';
import { commandSubjects } from '@reelay/contracts';
import { request } from '@reelay/messaging';
import type { Request } from 'express';
import { PublicRoute } from '../auth/current-user';
import { notFound } from '../errors/api-exception';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';
import { correlationIdOf } from '../http/correlation';
import { readBody } from '../http/read-body';
import { toCallbackCommand } from './callback-command';

/**
 * Inbound provider callbacks. The gateway neither parses nor trusts them: it forwards headers and
 * raw body to polling, which verifies signatures where providers sign and always re-checks the job
 * with the provider. The provider gets 204 at once whatever happens next.
 */
@Controller('v1/providers')
export class ProviderCallbackController {
  constructor(@Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps) {}

  @Post(':provider/callback')
  @PublicRoute()
  @HttpCode(204)
  async callback(@Param('provider') provider: string, @Req() req: Request): Promise<void> {
    if (!/^[a-z0-9-]{1,40}$/.test(provider)) throw notFound('provider');
    const { nc, config, logger } = this.deps;
    const body = await readBody(req, config.CALLBACK_BODY_LIMIT_BYTES);
    const command = toCallbackCommand(provider, req.headers, req.originalUrl.split('?')[1] ?? '', body, correlationIdOf(req));
    request(nc, commandSubjects(config.NATS_PREFIX).providerCallback, command, config.COMMAND_TIMEOUT_MS).catch((err: unknown) =>
      logger.warn({ err, provider }, 'provider callback was not taken by polling'),
    );
  }
}
