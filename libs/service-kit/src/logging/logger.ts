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
];

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
