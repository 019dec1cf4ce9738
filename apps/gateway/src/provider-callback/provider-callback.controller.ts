import { Controller, HttpCode, Inject, Param, Post, Req } from '@nestjs/common';
import { commandSubjects } from '@reelay/contracts';
import { request } from '@reelay/messaging';
import type { Request } from 'express';
import { PublicRoute } from '../auth/current-user';
import { ApiException, notFound } from '../errors/api-exception';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';
import { correlationIdOf } from '../http/correlation';
import { readBody } from '../http/read-body';
import { toCallbackCommand } from './callback-command';

/**
 * Inbound provider callbacks. The gateway neither parses nor trusts them: it forwards headers and
 * raw body to polling, which verifies signatures where providers sign and always re-checks the job
 * with the provider. The provider gets 200 at once whatever happens next (200, not 204: Luma
 * retries every other answer).
 */
@Controller('v1/providers')
export class ProviderCallbackController {
  /** Callback bodies being read now, in this process (see CALLBACK_MAX_CONCURRENT). */
  private reading = 0;

  constructor(@Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps) {}

  @Post(':provider/callback')
  @PublicRoute()
  @HttpCode(200)
  async callback(@Param('provider') provider: string, @Req() req: Request): Promise<void> {
    if (!/^[a-z0-9-]{1,40}$/.test(provider)) throw notFound('provider');
    const { nc, config, logger } = this.deps;
    if (this.reading >= config.CALLBACK_MAX_CONCURRENT) {
      throw new ApiException('service_unavailable', 'Too many callbacks are being received at once: send it again in a moment.', { headers: { 'Retry-After': '1', Connection: 'close' } });
    }
    this.reading++;
    let body: Buffer;
    try {
      body = await readBody(req, Math.min(config.CALLBACK_BODY_LIMIT_BYTES, forwardableBytes(nc.info?.max_payload)), { totalMs: config.CALLBACK_BODY_TIMEOUT_MS });
    } finally {
      this.reading--;
    }
    const command = toCallbackCommand(provider, req.headers, req.originalUrl.split('?')[1] ?? '', body, correlationIdOf(req));
    request(nc, commandSubjects(config.NATS_PREFIX).providerCallback, command, config.COMMAND_TIMEOUT_MS).catch((err: unknown) =>
      logger.warn({ err, provider }, 'provider callback was not taken by polling'),
    );
  }
}

/** Room for headers and the command's other fields in one NATS message. */
const COMMAND_OVERHEAD_BYTES = 64 * 1024;

/**
 * The largest body that still fits the NATS server's max payload once base64-encoded in the
 * command: a larger one could only be dropped after the provider had been told 200, so it is
 * refused (413) instead, and the job is found by its polls.
 */
function forwardableBytes(maxPayload = 1024 * 1024): number {
  return Math.max(0, Math.floor(((maxPayload - COMMAND_OVERHEAD_BYTES) * 3) / 4));
}
