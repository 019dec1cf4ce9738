import { Semaphore } from './semaphore';

describe('Semaphore', () => {
  it('given a waiter that gives up, then it holds no slot and the next release goes to the one behind it', async () => {
    const slots = new Semaphore(1);
    await slots.acquire();
    const giveUp = new AbortController();
    const impatient = slots.acquire(giveUp.signal);
    let patientGot = false;
    const patient = slots.acquire().then(() => (patientGot = true));
    giveUp.abort();
    await expect(impatient).rejects.toThrow('gave up waiting for a slot');
    slots.release();
    await patient;
    expect(patientGot).toBe(true);
    expect(slots.tryAcquire()).toBe(false); // the patient one holds the only slot
    slots.release();
    expect(slots.tryAcquire()).toBe(true);
  });

  it('given a signal aborted already, then it rejects at once unless a slot is free', async () => {
    const slots = new Semaphore(1);
    const aborted = AbortSignal.abort();
    await expect(slots.acquire(aborted)).resolves.toBeUndefined();
    await expect(slots.acquire(aborted)).rejects.toThrow();
  });

  it('tells when every slot is held by work started before a time, and not while one is free or fresh', () => {
    const slots = new Semaphore(2);
    const [a, b] = [{}, {}];
    slots.tryAcquire();
    slots.started(a, 1000);
    expect(slots.allHeldSince(5000)).toBe(false); // a slot is free
    slots.tryAcquire();
    slots.started(b, 4000);
    expect(slots.allHeldSince(5000)).toBe(true);
    expect(slots.allHeldSince(3000)).toBe(false); // b is fresh
    slots.finished(b);
    slots.release();
    expect(slots.allHeldSince(5000)).toBe(false);
  });
});
