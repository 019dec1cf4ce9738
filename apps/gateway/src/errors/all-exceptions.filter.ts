import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { Logger } from '@reelay/service-kit';
import type { Request, Response } from 'express';
import { isOpenAIRoute, toOpenAIErrorResponse } from '../openai-videos/openai-error';
import { toErrorResponse } from './error-envelope';

/**
 * Every error, including unknown routes and framework errors, leaves as the api.md envelope, or as
 * OpenAI's envelope on the OpenAI-compatible routes.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const req = host.switchToHttp().getRequest<Request>();
    const reelay = toErrorResponse(exception);
    const { status, headers, body } = isOpenAIRoute(req.path) ? toOpenAIErrorResponse(reelay, { method: req.method, idempotencyKey: req.header('idempotency-key') }) : reelay;
    if (status >= 500) this.logger.error({ err: exception }, 'request failed');
    if (res.headersSent) {
      // A streamed response (SSE, content) failed midway: all we can do is end it.
      res.end();
      return;
    }
    res.status(status).set({ ...headers, 'Cache-Control': 'no-store' }).json(body);
  }
}
