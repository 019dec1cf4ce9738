import { Periodic } from './periodic';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Periodic', () => {
  it('runs the task on every tick, never two at once, and stop waits for the run under way', async () => {
    let running = 0;
    let overlapped = false;
    let runs = 0;
    let finished = 0;
    const periodic = new Periodic(async () => {
      overlapped ||= running > 0;
      running++;
      runs++;
      await sleep(35);
      running--;
      finished++;
    }, 10, () => undefined);
    periodic.start();
    await sleep(150);
    await periodic.stop();
    expect(runs).toBeGreaterThanOrEqual(2);
    expect(overlapped).toBe(false);
    expect(finished).toBe(runs);
    await sleep(50);
    expect(runs).toBe(finished);
  });

  it('hands a failed run to onError and keeps ticking; 0 never starts', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const periodic = new Periodic(async () => {
      calls++;
      throw new Error('boom');
    }, 10, (err) => errors.push(err));
    periodic.start();
    await sleep(60);
    await periodic.stop();
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(errors).toHaveLength(calls);

    let off = 0;
    const never = new Periodic(async () => void off++, 0, () => undefined);
    never.start();
    await sleep(30);
    await never.stop();
    expect(off).toBe(0);
  });
});
