import { afterFailedCheck, afterUnfinishedCheck, deadlineFor, firstCheckAt, type SchedulePolicy } from './schedule-policy';

const policy: SchedulePolicy = { offsetsMs: [5000, 10000, 15000, 30000, 60000], delayedIntervalMs: 60_000, deadlineMs: 30 * 60_000, errorRetryMs: 5000 };
const accepted = new Date('2026-11-28T12:00:00.000Z');
const t = (ms: number) => new Date(accepted.getTime() + ms);
const row = (checksDone: number) => ({ acceptedAt: accepted, deadlineAt: deadlineFor(accepted, policy), checksDone });

describe('schedule policy', () => {
  it('first check 5 s after acceptance, deadline 30 min after', () => {
    expect(firstCheckAt(accepted, policy)).toEqual(t(5000));
    expect(deadlineFor(accepted, policy)).toEqual(t(30 * 60_000));
  });

  it('walks the offsets 5, 10, 15, 30, 60 s from acceptance', () => {
    const seen: number[] = [];
    for (let done = 0; done < 4; done++) {
      const step = afterUnfinishedCheck(row(done), t(policy.offsetsMs[done]), policy);
      if (step.kind !== 'check_later') throw new Error('expected a later check');
      expect(step.markDelayed).toBe(false);
      expect(step.checksDone).toBe(done + 1);
      seen.push(step.nextCheckAt.getTime() - accepted.getTime());
    }
    expect(seen).toEqual([10000, 15000, 30000, 60000]);
  });

  it('a late check does not push later offsets back, but never plans in the past', () => {
    const late = afterUnfinishedCheck(row(0), t(12_000), policy);
    expect(late).toMatchObject({ kind: 'check_later', nextCheckAt: t(12_000) });
    const slightlyLate = afterUnfinishedCheck(row(1), t(11_000), policy);
    expect(slightlyLate).toMatchObject({ kind: 'check_later', nextCheckAt: t(15_000) });
  });

  it('after the last offset the job is delayed and checked at the slower cadence', () => {
    expect(afterUnfinishedCheck(row(4), t(60_000), policy)).toEqual({ kind: 'check_later', checksDone: 5, nextCheckAt: t(120_000), markDelayed: true });
    expect(afterUnfinishedCheck(row(9), t(400_000), policy)).toMatchObject({ nextCheckAt: t(460_000), markDelayed: true });
  });

  it('never plans past the deadline, and a check at the deadline times out', () => {
    expect(afterUnfinishedCheck(row(20), t(30 * 60_000 - 10_000), policy)).toMatchObject({ nextCheckAt: t(30 * 60_000) });
    expect(afterUnfinishedCheck(row(21), t(30 * 60_000), policy)).toEqual({ kind: 'timed_out' });
  });

  it('a failed check is retried after Retry-After or the error delay, without using up an offset', () => {
    expect(afterFailedCheck(row(2), t(15_000), policy)).toEqual({ kind: 'check_later', checksDone: 2, nextCheckAt: t(20_000), markDelayed: false });
    expect(afterFailedCheck(row(2), t(15_000), policy, 1000)).toMatchObject({ nextCheckAt: t(16_000) });
    expect(afterFailedCheck(row(2), t(30 * 60_000 - 1000), policy)).toMatchObject({ nextCheckAt: t(30 * 60_000) });
    expect(afterFailedCheck(row(2), t(30 * 60_000 + 1), policy)).toEqual({ kind: 'timed_out' });
  });
});
