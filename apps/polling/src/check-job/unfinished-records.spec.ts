import { unfinishedRecords } from './unfinished-records';

describe('unfinishedRecords (what a still-running check writes to the job stream)', () => {
  const fresh = { progress: null, delayedMarked: false };
  const scheduled = { checksDone: 2, markDelayed: false };

  it('records progress only past the last recorded percentage', () => {
    expect(unfinishedRecords(fresh, { progress: 0.5 }, scheduled, 5)).toEqual({ progress: 50, markDelayed: false });
    expect(unfinishedRecords({ ...fresh, progress: 50 }, { progress: 0.504 }, scheduled, 5)).toEqual({ markDelayed: false });
    expect(unfinishedRecords({ ...fresh, progress: 50 }, { progress: 0.51 }, scheduled, 5)).toEqual({ progress: 51, markDelayed: false });
    expect(unfinishedRecords(fresh, { progress: 0 }, scheduled, 5)).toEqual({ markDelayed: false });
    expect(unfinishedRecords(fresh, {}, scheduled, 5)).toEqual({ markDelayed: false });
  });

  it('asks for delayed once, at the check that uses up the offsets', () => {
    expect(unfinishedRecords(fresh, {}, { checksDone: 5, markDelayed: true }, 5).markDelayed).toBe(true);
    // Later delayed-cadence checks: already asked for at the 5th.
    expect(unfinishedRecords(fresh, {}, { checksDone: 6, markDelayed: true }, 5).markDelayed).toBe(false);
    expect(unfinishedRecords({ ...fresh, delayedMarked: true }, {}, { checksDone: 5, markDelayed: true }, 5).markDelayed).toBe(false);
  });

  it('asks for delayed when the provider reports it, unless already asked', () => {
    expect(unfinishedRecords(fresh, { delayed: true }, scheduled, 5).markDelayed).toBe(true);
    expect(unfinishedRecords({ ...fresh, delayedMarked: true }, { delayed: true }, scheduled, 5).markDelayed).toBe(false);
  });
});
