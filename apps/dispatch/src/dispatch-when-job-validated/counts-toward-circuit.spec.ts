import { ProviderError } from '@reelay/providers';
import { countsTowardCircuit } from './on-submit-error';

describe('which submit failures count toward a provider circuit', () => {
  it('the provider failing or refusing our account does; a conflict with a concurrent request, a rate limit or a bad request does not', () => {
    expect(countsTowardCircuit(new ProviderError('server', '503'))).toBe(true);
    expect(countsTowardCircuit(new ProviderError('timeout', 'no answer'))).toBe(true);
    expect(countsTowardCircuit(new ProviderError('auth', '401'))).toBe(true);
    expect(countsTowardCircuit(new ProviderError('server', '409 conflict', { notProviderFault: true }))).toBe(false);
    expect(countsTowardCircuit(new ProviderError('rate_limited', '429'))).toBe(false);
    expect(countsTowardCircuit(new ProviderError('invalid_request', '400'))).toBe(false);
  });
});
