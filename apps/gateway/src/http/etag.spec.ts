import { jobETag, noneMatchHits } from './etag';

describe('If-None-Match', () => {
  const etag = jobETag(4);
  it.each([
    ['"4"', true],
    ['W/"4"', true],
    ['"3", "4"', true],
    [' "3" ,W/"4" ', true],
    ['*', true],
    ['"3"', false],
    ['"44"', false],
    ['4', false],
    ['', false],
  ])('%j matches "4": %s', (header, hit) => expect(noneMatchHits(header, etag)).toBe(hit));
  it('is not a hit without the header', () => expect(noneMatchHits(undefined, etag)).toBe(false));
});
