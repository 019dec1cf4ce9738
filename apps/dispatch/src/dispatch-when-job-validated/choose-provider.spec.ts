import { chooseProvider } from './choose-provider';

describe('chooseProvider', () => {
  it('takes the first provider in preference order whose circuit allows it', async () => {
    expect(await chooseProvider(['a', 'b'], async () => true)).toBe('a');
    expect(await chooseProvider(['a', 'b', 'c'], async (p) => p !== 'a')).toBe('b');
  });

  it('falls back to the primary when every circuit is open', async () => {
    expect(await chooseProvider(['a', 'b'], async () => false)).toBe('a');
  });

  it('asks no further once one is chosen (a half-open probe is claimed only when used)', async () => {
    const asked: string[] = [];
    await chooseProvider(['a', 'b'], async (p) => (asked.push(p), true));
    expect(asked).toEqual(['a']);
  });
});
