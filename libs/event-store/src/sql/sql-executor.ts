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

/** A string field of a failed query's error, whether it comes raw from pg or wrapped by TypeORM (`driverError`). */
function errorField(err: unknown, name: 'code' | 'severity' | 'constraint'): string | undefined {
  const e = err as (Record<string, unknown> & { driverError?: Record<string, unknown> }) | undefined;
  const value = e?.[name] ?? e?.driverError?.[name];
  return typeof value === 'string' ? value : undefined;
}

/** The PostgreSQL SQLSTATE of a failed query. */
export function pgErrorCode(err: unknown): string | undefined {
  return errorField(err, 'code');
}

/**
 * The server answered the statement with an error (pg's DatabaseError: a SQLSTATE and a severity),
 * so it was not committed. A socket error (ECONNRESET, EPIPE...) also carries a `code`, but then the
 * statement's outcome is unknown.
 */
export function isServerError(err: unknown): boolean {
  return errorField(err, 'severity') !== undefined && /^[0-9A-Z]{5}$/.test(pgErrorCode(err) ?? '');
}

export function pgConstraint(err: unknown): string | undefined {
  return errorField(err, 'constraint');
}
