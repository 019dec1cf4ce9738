import pino from 'pino';
import { currentContext } from '../context/request-context';

const REDACT = [
  'apiKey',
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  '*.apiKey',
  '*.secret',
  '*.password',
  'secret',
  'password',
];

/** JSON logs; every line carries the job, correlation and trace ids of the work in progress. */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info') {
  return pino({
    name: service,
    level,
    base: { service },
    redact: { paths: REDACT, censor: '[redacted]' },
    mixin: () => {
      const { jobId, correlationId, traceId } = currentContext();
      return { jobId, correlationId, traceId };
    },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
export type Logger = ReturnType<typeof createLogger>;
