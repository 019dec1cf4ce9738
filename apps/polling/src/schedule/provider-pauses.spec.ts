import { ProviderPauses } from './provider-pauses';

describe('ProviderPauses', () => {
  const setup = () => {
    let now = 1_000_000;
    const warned: unknown[] = [];
    const pauses = new ProviderPauses({ warn: (obj: unknown) => void warned.push(obj) } as never, () => now);
    return { pauses, warned, advance: (ms: number) => (now += ms) };
  };

  it('given a 429 with a wait, when asked before and after the wait, then the provider is paused only until it ends', () => {
    const { pauses, advance } = setup();
    pauses.rateLimited('runway', 5_000);
    expect(pauses.paused()).toEqual(['runway']);
    advance(4_999);
    expect(pauses.paused()).toEqual(['runway']);
    advance(1);
    expect(pauses.paused()).toEqual([]);
  });

  it('given a long pause, when a shorter 429 follows, then the longer wait stands; a longer one extends it', () => {
    const { pauses, advance } = setup();
    pauses.rateLimited('luma', 10_000);
    pauses.rateLimited('luma', 1_000);
    advance(5_000);
    expect(pauses.paused()).toEqual(['luma']);
    pauses.rateLimited('luma', 20_000);
    advance(15_000);
    expect(pauses.paused()).toEqual(['luma']);
  });

  it('given several 429s in one pause, then one warning is logged, and another once a new pause begins', () => {
    const { pauses, warned, advance } = setup();
    pauses.rateLimited('fal', 2_000);
    pauses.rateLimited('fal', 3_000);
    expect(warned).toEqual([{ provider: 'fal', waitMs: 2_000 }]);
    advance(3_000);
    pauses.rateLimited('fal', 2_000);
    expect(warned).toHaveLength(2);
  });

  it('pauses each provider on its own', () => {
    const { pauses, advance } = setup();
    pauses.rateLimited('kling', 1_000);
    pauses.rateLimited('seedance', 3_000);
    expect(pauses.paused()).toEqual(['kling', 'seedance']);
    advance(1_500);
    expect(pauses.paused()).toEqual(['seedance']);
  });
});
