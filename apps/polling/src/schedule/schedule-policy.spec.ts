import { afterFailedCheck, afterUnfinishedCheck, deadlineFor, firstCheckAt, MIN_RETRY_AFTER_MS, type SchedulePolicy } from './schedule-policy';

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

  it('a late check plans the next offset still ahead: the offsets it missed are not fired one after the other', () => {
    expect(afterUnfinishedCheck(row(0), t(12_000), policy)).toEqual({ kind: 'check_later', checksDone: 2, nextCheckAt: t(15_000), markDelayed: false });
    expect(afterUnfinishedCheck(row(1), t(11_000), policy)).toMatchObject({ checksDone: 2, nextCheckAt: t(15_000) });
    // Picked up after every offset passed (the follow sweep): delayed at once, and only once.
    expect(afterUnfinishedCheck(row(1), t(70_000), policy)).toEqual({ kind: 'check_later', checksDone: 5, nextCheckAt: t(130_000), markDelayed: true });
  });

  it('a check a callback brought forward uses up no offset: the job is not delayed before the last offset has passed', () => {
    // Checks at 5, 10, 15 and 30 s found it running; a callback at 40 s asks for one more.
    expect(afterUnfinishedCheck(row(4), t(40_000), policy)).toEqual({ kind: 'check_later', checksDone: 4, nextCheckAt: t(60_000), markDelayed: false });
    // Before the first offset.
    expect(afterUnfinishedCheck(row(0), t(2_000), policy)).toEqual({ kind: 'check_later', checksDone: 0, nextCheckAt: t(5_000), markDelayed: false });
    expect(afterUnfinishedCheck(row(4), t(60_000), policy)).toMatchObject({ checksDone: 5, markDelayed: true });
  });

  it('after the last offset the job is delayed and checked at the slower cadence', () => {
    expect(afterUnfinishedCheck(row(4), t(60_000), policy)).toEqual({ kind: 'check_later', checksDone: 5, nextCheckAt: t(120_000), markDelayed: true });
    expect(afterUnfinishedCheck(row(9), t(400_000), policy)).toMatchObject({ nextCheckAt: t(460_000), markDelayed: true });
  });

  it('never plans past the deadline, and a check at the deadline times out', () => {
    expect(afterUnfinishedCheck(row(20), t(30 * 60_000 - 10_000), policy)).toMatchObject({ nextCheckAt: t(30 * 60_000) });
    expect(afterUnfinishedCheck(row(21), t(30 * 60_000), policy)).toEqual({ kind: 'timed_out' });
  });

  it("plans no check past the job's own deadline, and a check at or past it that finds the job unfinished gives it up", () => {
    const withDeadline = { ...row(5), cancelAt: t(200_000) };
    expect(afterUnfinishedCheck(withDeadline, t(170_000), policy)).toMatchObject({ kind: 'check_later', nextCheckAt: t(200_000) });
    expect(afterUnfinishedCheck(withDeadline, t(200_000), policy)).toEqual({ kind: 'past_cancel_at' });
    // It comes first even when the provider deadline has passed too.
    expect(afterUnfinishedCheck({ ...row(5), cancelAt: t(30 * 60_000) }, t(31 * 60_000), policy)).toEqual({ kind: 'past_cancel_at' });
  });

  it('a failed check is tried again at the job\'s own deadline at the latest, and past it as usual (the provider is asked before the job is given up)', () => {
    const withDeadline = { ...row(5), cancelAt: t(200_000) };
    expect(afterFailedCheck(withDeadline, t(198_000), policy)).toMatchObject({ kind: 'check_later', nextCheckAt: t(200_000) });
    expect(afterFailedCheck(withDeadline, t(201_000), policy)).toMatchObject({ kind: 'check_later', nextCheckAt: t(206_000) });
  });

  it('a Retry-After of 0 or a date already past waits the shortest Retry-After, not an immediate check over and over', () => {
    expect(afterFailedCheck(row(2), t(15_000), policy, 0)).toMatchObject({ nextCheckAt: t(15_000 + MIN_RETRY_AFTER_MS) });
  });

  it('failed checks in a row without Retry-After wait twice as long each time, up to the delayed cadence', () => {
    const waits = [0, 1, 2, 3, 4, 30].map((checkErrors) => afterFailedCheck({ ...row(5), checkErrors }, t(600_000), policy));
    expect(waits.map((s) => (s.kind === 'check_later' ? s.nextCheckAt.getTime() - t(600_000).getTime() : null))).toEqual([5_000, 10_000, 20_000, 40_000, 60_000, 60_000]);
  });

  it('a failed check is retried after Retry-After or the error delay, without using up an offset', () => {
    expect(afterFailedCheck(row(2), t(15_000), policy)).toEqual({ kind: 'check_later', checksDone: 2, nextCheckAt: t(20_000), markDelayed: false });
    expect(afterFailedCheck(row(2), t(15_000), policy, 1000)).toMatchObject({ nextCheckAt: t(16_000) });
    expect(afterFailedCheck(row(2), t(30 * 60_000 - 1000), policy)).toMatchObject({ nextCheckAt: t(30 * 60_000) });
    expect(afterFailedCheck(row(2), t(30 * 60_000 + 1), policy)).toEqual({ kind: 'timed_out' });
  });
});
