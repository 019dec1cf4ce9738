import type { JobEvent } from '@reelay/contracts';
import { dispatchView } from './submission-history';

const at = (s: number) => new Date(Date.UTC(2030, 0, 1, 0, 0, s)).toISOString();
const intended = (provider: string, attempt: number, s: number): JobEvent => ({ type: 'JobSubmissionIntended', data: { provider, attempt, submissionKey: `job_1:${attempt}`, at: at(s) } }) as JobEvent;
const retry = (provider: string, attempt: number, s: number, nextProvider?: string): JobEvent =>
  ({ type: 'JobSubmissionRetryScheduled', data: { provider, attempt, reason: 'provider_error', retryAt: at(s + 1), ...(nextProvider ? { nextProvider } : {}), at: at(s) } }) as JobEvent;
const historyAfter = (events: JobEvent[]) => events.reduce(dispatchView.evolve, dispatchView.initialState()).history;

describe('submission history', () => {
  it('given retries at one provider, then its budget keeps running over the retry intents', () => {
    const h = historyAfter([intended('replicate', 1, 0), retry('replicate', 1, 1), intended('replicate', 2, 2), retry('replicate', 2, 3)]);
    expect(h.retries).toHaveLength(2);
    expect(h.intentAt).toEqual(new Date(at(0)));
    expect(h.providers).toEqual(['replicate']);
  });

  it('given a failover to another provider, then the budget starts over there and both providers are remembered', () => {
    const h = historyAfter([intended('replicate', 1, 0), retry('replicate', 1, 1), intended('replicate', 2, 2), retry('replicate', 2, 3), intended('fal', 3, 4)]);
    expect(h.retries).toEqual([]);
    expect(h.intentAt).toEqual(new Date(at(4)));
    expect(h.providers).toEqual(['replicate', 'fal']);
    expect(h).toMatchObject({ lastTryRejected: false, pendingRetryAt: null });
  });

  it('given a refusal that sends the job on, then the next provider is remembered until a try is intended there', () => {
    const refused = [intended('replicate', 1, 0), retry('replicate', 1, 1, 'fal')];
    expect(historyAfter(refused)).toMatchObject({ failoverTo: 'fal', lastTryRejected: true, providers: ['replicate'] });
    expect(historyAfter([...refused, intended('fal', 2, 2)])).toMatchObject({ failoverTo: null, providers: ['replicate', 'fal'] });
    expect(historyAfter([intended('replicate', 1, 0), retry('replicate', 1, 1)]).failoverTo).toBeNull();
  });
});
