import { ApiError } from '@reelay/contracts';
import { CommandUnavailableError, request } from '@reelay/messaging';
import { injectTraceparent } from '@reelay/service-kit';
import type { z } from 'zod';
import { ApiException } from '../errors/api-exception';
import { genericMessage } from '../errors/error-envelope';
import type { GatewayDeps } from '../gateway-deps';

type Reply<T> = { ok: true } & T;

/**
 * Asks another service over NATS request/reply and answers its reply's success part; its refusal
 * becomes that API error, no answer a 503, and an answer that is not `schema` a 500 (logged).
 */
export async function askService<T extends object>(
  deps: Pick<GatewayDeps, 'nc' | 'config' | 'logger'>,
  service: string,
  subject: string,
  payload: object,
  schema: z.ZodType<Reply<T> | { ok: false; error: ApiError }>,
  timeoutMs = deps.config.COMMAND_TIMEOUT_MS,
): Promise<T> {
  const { nc, logger } = deps;
  // The request's trace rides in the NATS header; the payload names it too, for the service's records.
  const traceparent = injectTraceparent();
  let raw: unknown;
  try {
    raw = await request(nc, subject, traceparent ? { ...payload, traceparent } : payload, timeoutMs);
  } catch (err) {
    if (err instanceof CommandUnavailableError) {
      logger.warn({ subject, reason: err.reason }, `${service} unavailable`);
      throw new ApiException('service_unavailable', genericMessage('service_unavailable'), { headers: { 'Retry-After': '1' } });
    }
    throw err;
  }
  const reply = schema.safeParse(raw);
  if (!reply.success) {
    logger.error({ subject }, `${service} sent a reply that does not match its schema`);
    throw new ApiException('internal_error', genericMessage('internal_error'));
  }
  if (reply.data.ok) return reply.data;
  const { code, message, details } = reply.data.error;
  // The service answered but cannot do it now (its database out of reach): retryable, like no answer.
  throw new ApiException(code, message, { details, ...(code === 'service_unavailable' ? { headers: { 'Retry-After': '2' } } : {}) });
}
