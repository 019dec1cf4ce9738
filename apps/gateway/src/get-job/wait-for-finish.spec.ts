import { MAX_WAIT_SECONDS, preferredWaitSeconds } from './wait-for-finish';

describe('preferredWaitSeconds', () => {
  it.each([
    [undefined, 0],
    ['wait=10', 10],
    ['respond-async, wait=5', 5],
    ['WAIT = "7"', 7],
    ['wait=10; foo=bar', 10],
    [['handling=lenient', 'wait=3'], 3],
    ['wait=3600', MAX_WAIT_SECONDS],
    ['wait=-1', 0],
    ['wait=soon', 0],
    ['return=minimal', 0],
  ])('reads %j as %d seconds', (header, seconds) => {
    expect(preferredWaitSeconds(header as string | string[] | undefined)).toBe(seconds);
  });
});
