import { listedPast } from './find-in-task-list';

describe('listedPast', () => {
  const intent = new Date('2026-12-05T12:00:00Z');
  const at = (minutes: number) => intent.getTime() + minutes * 60_000;

  it('is true for a page newest first that reaches tasks made well before the first try', () => {
    expect(listedPast([at(3), at(1), at(-20)], intent)).toBe(true);
  });
  it('is false while the page is still within the clock skew of the try, or newer', () => {
    expect(listedPast([at(3), at(1), at(-2)], intent)).toBe(false);
  });
  it('proves nothing for a page not ordered newest first, one with a missing time, or with no try time', () => {
    expect(listedPast([at(-30), at(-20)], intent)).toBe(false);
    expect(listedPast([at(3), undefined, at(-20)], intent)).toBe(false);
    expect(listedPast([at(3), at(-20)], undefined)).toBe(false);
    expect(listedPast([], intent)).toBe(false);
  });
});
