import { chooseProvider } from './choose-provider';

const free = async () => true;
const full = (...providers: string[]) => async (p: string) => !providers.includes(p);

describe('chooseProvider', () => {
  it('takes the first provider in preference order whose circuit allows it', async () => {
    expect(await chooseProvider(['a', 'b'], async () => true, free)).toBe('a');
    expect(await chooseProvider(['a', 'b', 'c'], async (p) => p !== 'a', free)).toBe('b');
  });

  it('falls back to the primary when every circuit is open', async () => {
    expect(await chooseProvider(['a', 'b'], async () => false, free)).toBe('a');
    expect(await chooseProvider(['a', 'b'], async () => false, full('a'))).toBeNull();
  });

  it('given a healthy provider with every slot taken, then the next healthy one with a free slot gets the job', async () => {
    expect(await chooseProvider(['a', 'b', 'c'], async () => true, full('a'))).toBe('b');
    expect(await chooseProvider(['a', 'b', 'c'], async (p) => p !== 'b', full('a'))).toBe('c');
  });

  it('given every healthy provider full, then none is chosen (the job waits), not one whose circuit is open', async () => {
    const taken: string[] = [];
    const take = async (p: string) => (taken.push(p), false);
    expect(await chooseProvider(['a', 'b', 'c'], async (p) => p !== 'c', take)).toBeNull();
    expect(taken).toEqual(['a', 'b']);
  });

  it('asks no further once one is chosen (a half-open probe is claimed only when used)', async () => {
    const asked: string[] = [];
    await chooseProvider(['a', 'b'], async (p) => (asked.push(p), true), free);
    expect(asked).toEqual(['a']);
  });

  it('tells a provider that let the job through but had no slot, so a probe it handed out goes back', async () => {
    const passed: string[] = [];
    expect(await chooseProvider(['a', 'b'], async () => true, full('a'), async (p) => void passed.push(p))).toBe('b');
    expect(passed).toEqual(['a']);
  });
});
