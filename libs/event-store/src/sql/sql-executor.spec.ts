import { isServerError } from './sql-executor';

describe('isServerError', () => {
  it('is true for an error the server answered, raw from pg or wrapped by TypeORM', () => {
    expect(isServerError(Object.assign(new Error('duplicate key'), { severity: 'ERROR', code: '23505' }))).toBe(true);
    expect(isServerError(Object.assign(new Error('query failed'), { driverError: { severity: 'ERROR', code: '40P01' } }))).toBe(true);
  });

  it('is false for a lost connection, whose statement may have committed', () => {
    expect(isServerError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', errno: -104 }))).toBe(false);
    expect(isServerError(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }))).toBe(false);
    expect(isServerError(new Error('Connection terminated unexpectedly'))).toBe(false);
    expect(isServerError(undefined)).toBe(false);
  });
});
