import type { DataSource, QueryRunner } from 'typeorm';

/**
 * Anything that can run a parameterised SQL statement: a DataSource (autocommit, pooled),
 * a QueryRunner (possibly inside a transaction) or an EntityManager.
 */
export interface SqlExecutor {
  query(sql: string, parameters?: unknown[]): Promise<any>;
}

/** Runs `work` in one transaction on a dedicated connection; rolls back on any error. */
export async function inTransaction<T>(dataSource: DataSource, work: (tx: QueryRunner) => Promise<T>): Promise<T> {
  const tx = dataSource.createQueryRunner();
  await tx.connect();
  try {
    await tx.startTransaction();
    const result = await work(tx);
    await tx.commitTransaction();
    return result;
  } catch (err) {
    if (tx.isTransactionActive) await tx.rollbackTransaction().catch(() => undefined);
    throw err;
  } finally {
    await tx.release();
  }
}

/** The PostgreSQL SQLSTATE of a failed query, whether it comes raw from pg or wrapped by TypeORM. */
export function pgErrorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; driverError?: { code?: unknown } } | undefined;
  const code = e?.code ?? e?.driverError?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * The server answered the statement with an error (pg's DatabaseError: a SQLSTATE and a severity),
 * so it was not committed. A socket error (ECONNRESET, EPIPE...) also carries a `code`, but then the
 * statement's outcome is unknown.
 */
export function isServerError(err: unknown): boolean {
  const e = err as { severity?: unknown; driverError?: { severity?: unknown } } | undefined;
  return typeof (e?.severity ?? e?.driverError?.severity) === 'string' && /^[0-9A-Z]{5}$/.test(pgErrorCode(err) ?? '');
}

export function pgConstraint(err: unknown): string | undefined {
  const e = err as { constraint?: unknown; driverError?: { constraint?: unknown } } | undefined;
  const c = e?.constraint ?? e?.driverError?.constraint;
  return typeof c === 'string' ? c : undefined;
}
