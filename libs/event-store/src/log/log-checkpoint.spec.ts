import { compareCheckpoints, LOG_START } from './log-checkpoint';

describe('compareCheckpoints', () => {
  it('orders by transaction id first, then global position, as 64-bit numbers', () => {
    expect(compareCheckpoints({ transactionId: '9', globalPosition: '100' }, { transactionId: '10', globalPosition: '1' })).toBeLessThan(0);
    expect(compareCheckpoints({ transactionId: '10', globalPosition: '9' }, { transactionId: '10', globalPosition: '10' })).toBeLessThan(0);
    expect(compareCheckpoints({ transactionId: '18446744073709551615', globalPosition: '1' }, { transactionId: '18446744073709551614', globalPosition: '2' })).toBeGreaterThan(0);
    expect(compareCheckpoints(LOG_START, { transactionId: '0', globalPosition: '0' })).toBe(0);
  });
});
