import { Catch, Logger, type RpcExceptionFilter } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { throwError, type Observable } from 'rxjs';

/**
 * Nest's default RPC filter turns every error into `{status:'error',message:'Internal server error'}`.
 * With this global filter the transport sees the original error, so dead letters say what failed.
 */
@Catch()
export class JetStreamErrorFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger('JetStream');

  catch(exception: unknown): Observable<never> {
    this.logger.warn(`handler failed: ${describeError(exception)}`);
    return throwError(() => exception);
  }
}

export function describeError(err: unknown): string {
  let text: string;
  if (err instanceof RpcException) text = JSON.stringify(err.getError());
  else if (err instanceof Error) text = `${err.name}: ${err.message}`;
  else if (err && typeof err === 'object') text = JSON.stringify(err);
  else text = String(err);
  return text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
}
