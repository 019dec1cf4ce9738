import { JobId } from '@reelay/contracts';
import { jobIdForIdempotencyKey, newJobId, requestHash } from './job-ids';

describe('job ids', () => {
  it('are valid job ids that sort by time', () => {
    const a = newJobId(new Date('2026-01-01T00:00:00Z'));
    const b = newJobId(new Date('2026-01-01T00:00:01Z'));
    expect(JobId.parse(a)).toBe(a);
    expect(a < b).toBe(true);
  });
  it('map an idempotency key to the same id per user, and a different one across users', () => {
    expect(jobIdForIdempotencyKey('u1', 'k')).toBe(jobIdForIdempotencyKey('u1', 'k'));
    expect(jobIdForIdempotencyKey('u1', 'k')).not.toBe(jobIdForIdempotencyKey('u2', 'k'));
    expect(JobId.safeParse(jobIdForIdempotencyKey('u1', 'k')).success).toBe(true);
  });
  it('hash requests independently of key order', () => {
    expect(requestHash({ a: 1, b: { c: 2, d: 3 } })).toBe(requestHash({ b: { d: 3, c: 2 }, a: 1 }));
    expect(requestHash({ a: 1 })).not.toBe(requestHash({ a: 2 }));
  });
});
