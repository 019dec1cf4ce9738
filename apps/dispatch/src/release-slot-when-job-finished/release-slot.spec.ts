import { dispatchConsumers } from '../dispatch.consumers';
import { CANCELED_LOOKUP_DELIVERIES, redeliverCanceled } from './release-slot.handler';

describe('redelivering a JobCanceled', () => {
  const lookAgain = { kind: 'later', delayMs: 10_000, why: 'retry' } as const;

  it('given a lookup to try again, then it is redelivered while under its own bound, and past it left to the job\'s submit delivery (acked, no dead letter)', () => {
    expect(redeliverCanceled(lookAgain, 1)).toBe(true);
    expect(redeliverCanceled(lookAgain, CANCELED_LOOKUP_DELIVERIES - 1)).toBe(true);
    expect(redeliverCanceled(lookAgain, CANCELED_LOOKUP_DELIVERIES)).toBe(false);
  });

  it('the bound stays below the release consumer\'s maxDeliver, so the last try is acked before a dead letter', () => {
    const release = dispatchConsumers('p', 1).find((b) => b.durable === 'dispatch-release-slots')!;
    expect(CANCELED_LOOKUP_DELIVERIES).toBeLessThan(release.maxDeliver!);
  });

  it('given the job held by a submit under way, or nothing left to do, then it is not redelivered', () => {
    expect(redeliverCanceled({ kind: 'later', delayMs: 5_000, why: 'busy' }, 1)).toBe(false);
    expect(redeliverCanceled({ kind: 'done' }, 1)).toBe(false);
  });
});
