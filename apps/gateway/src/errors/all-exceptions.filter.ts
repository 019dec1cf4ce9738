import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { Logger } from '@reelay/service-kit';
import type { Response } from 'express';
import { toErrorResponse } from './error-envelope';

/** Every error, including unknown routes and framework errors, leaves as the api.md envelope. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const { status, headers, body } = toErrorResponse(exception);
    if (status >= 500) this.logger.error({ err: exception }, 'request failed');
    if (res.headersSent) {
      // A streamed response (SSE, content) failed midway: all we can do is end it.
      res.end();
      return;
    }
    res.status(status).set({ ...headers, 'Cache-Control': 'no-store' }).json(body);
  }
}
