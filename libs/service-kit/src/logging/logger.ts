import pino, { type DestinationStream } from 'pino';
import { currentContext } from '../context/request-context';
import { activeTraceIds, traceIdOf } from '../tracing/tracing';
import { scrubSecrets } from './scrub-secrets';

const REDACT = [
  'apiKey',
  'api_key',
  'token',
  'authorization',
  'cookie',
  'headers.authorization',
  'headers.cookie',
  'headers["x-api-key"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  '*.apiKey',
  '*.api_key',
  '*.token',
  '*.authorization',
  '*.secret',
  '*.password',
  '*.headers.authorization',
  '*.headers["x-api-key"]',
  'secret',
  'password',
  'webhookSecret',
  '*.webhookSecret',
  'masterSecret',
  '*.masterSecret',
];

/** Fields of an error worth an operator's reading; the rest may carry data (see serializeError). */
const ERROR_FIELDS = ['code', 'kind', 'status', 'detail', 'retryable', 'constraint'] as const;

/**
 * Errors are logged by an allowlist of fields, not whole: pino's default copies every enumerable
 * field, and TypeORM's QueryFailedError carries the statement's parameters (jobs' prompts,
 * webhook and image URLs), an HTTP client's error its request. The cause is kept, two levels deep.
 */
export function serializeError(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error)) return err;
  const out: Record<string, unknown> = { type: err.constructor?.name ?? 'Error', message: err.message, stack: err.stack };
  // PostgreSQL's `detail` quotes the row a constraint refused ("Failing row contains (…)"): prompts, URLs.
  const fromDatabase = 'severity' in err || 'driverError' in err;
  for (const field of ERROR_FIELDS) {
    if (field === 'detail' && fromDatabase) continue;
    const value = (err as unknown as Record<string, unknown>)[field];
    if (value !== undefined && (typeof value !== 'object' || value === null)) out[field] = value;
  }
  if (err.cause !== undefined && depth < 2) out.cause = serializeError(err.cause, depth + 1);
  return out;
}

/**
 * JSON logs; every line carries the job, correlation and trace ids of the work in progress (trace
 * and span ids from the active span). Known secret fields are censored by path, and every line is
 * scrubbed of credentials inside strings (Bearer tokens, `?key=` in URLs, provider key formats).
 */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info', destination?: DestinationStream) {
  const out = destination ?? pino.destination({ dest: 1, sync: true });
  return pino(
    {
      name: service,
      level,
      base: { service },
      redact: { paths: REDACT, censor: '[redacted]' },
      serializers: { err: serializeError },
      mixin: () => {
        const { jobId, correlationId, traceId, traceparent } = currentContext();
        const active = activeTraceIds();
        return { jobId, correlationId, traceId: active?.traceId ?? traceId ?? traceIdOf(traceparent), spanId: active?.spanId };
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    { write: (line: string) => out.write(scrubSecrets(line)) },
  );
}
export type Logger = ReturnType<typeof createLogger>;
