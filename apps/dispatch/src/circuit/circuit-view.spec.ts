import { isFresh, successChangesNothing, viewOf } from './circuit-view';

describe('circuit view', () => {
  it('trusts a closed circuit (or no row) for the view time', () => {
    const view = viewOf({ open: false, failing: false, probeInMs: 0 }, 1_000, 500);
    expect(isFresh(view, 1_499)).toBe(true);
    expect(isFresh(view, 1_500)).toBe(false);
    expect(isFresh(viewOf(undefined, 1_000, 500), 1_200)).toBe(true);
  });

  it('trusts an open circuit only until its probe is due', () => {
    expect(viewOf({ open: true, failing: true, probeInMs: 200 }, 1_000, 500).freshUntil).toBe(1_200);
    expect(viewOf({ open: true, failing: true, probeInMs: 60_000 }, 1_000, 500).freshUntil).toBe(1_500);
    expect(isFresh(viewOf({ open: true, failing: true, probeInMs: 0 }, 1_000, 500), 1_000)).toBe(false);
  });

  it('skips writing a success only for a fresh view of a closed circuit without failures', () => {
    expect(successChangesNothing(viewOf(undefined, 0, 500), 100)).toBe(true);
    expect(successChangesNothing(viewOf(undefined, 0, 500), 600)).toBe(false);
    expect(successChangesNothing(viewOf({ open: false, failing: true, probeInMs: 0 }, 0, 500), 100)).toBe(false);
    expect(successChangesNothing(viewOf({ open: true, failing: true, probeInMs: 400 }, 0, 500), 100)).toBe(false);
    expect(successChangesNothing(undefined, 100)).toBe(false);
  });
});
