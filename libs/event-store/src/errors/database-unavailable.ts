/**
 * PostgreSQL errors that say the server cannot be reached or is going away, not that the request
 * was wrong: connection exceptions (class 08), shutdowns and restarts (57P01–57P03), too many
 * connections (53300); and the socket errors of a connection that never opened or was cut.
 */
const UNAVAILABLE_SQLSTATES = new Set(['08000', '08001', '08003', '08004', '08006', '57P01', '57P02', '57P03', '53300']);
const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/**
 * Said in words only: node-postgres's connection ended under a query or its pool's wait ran out,
 * and PostgreSQL's refusal of a database closed to connections (SQLSTATE 55000, shared with errors that are no outage).
 */
const UNAVAILABLE_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)|is not currently accepting connections$/;

/**
 * The database is out of reach, by the error, TypeORM's wrapper of it (`driverError`) or what it was
 * caused by: an outage, which callers answer as retryable (503), not as a failure of the request.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  let e = err as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    if (typeof e.code === 'string' && (UNAVAILABLE_SQLSTATES.has(e.code) || UNAVAILABLE_ERRNOS.has(e.code))) return true;
    if (typeof e.message === 'string' && UNAVAILABLE_MESSAGES.test(e.message)) return true;
    e = (e.driverError ?? e.cause) as typeof e;
  }
  return false;
}
