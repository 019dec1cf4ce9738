import { failureCodeAfterAcceptance, operatorDetail } from './failure-code';

describe('failure codes after the provider accepted a job', () => {
  it('keeps the codes that can follow a submission', () => {
    expect(failureCodeAfterAcceptance({ kind: 'moderation' })).toBe('moderation_rejected');
    expect(failureCodeAfterAcceptance({ kind: 'timeout' })).toBe('provider_timeout');
    expect(failureCodeAfterAcceptance({ kind: 'output_missing' })).toBe('output_missing');
    expect(failureCodeAfterAcceptance({ kind: 'server' })).toBe('unknown_provider_error');
  });
  it('turns pre-submission codes into unknown_provider_error', () => {
    expect(failureCodeAfterAcceptance({ kind: 'invalid_request' })).toBe('unknown_provider_error');
    expect(failureCodeAfterAcceptance({ kind: 'asset_fetch' })).toBe('unknown_provider_error');
  });
  it('keeps the provider code in the operator detail, bounded', () => {
    expect(operatorDetail('runway', { kind: 'moderation', providerCode: 'SAFETY.OUTPUT.VIDEO', detail: 'flagged' })).toBe('runway moderation SAFETY.OUTPUT.VIDEO: flagged');
    expect(operatorDetail('luma', { kind: 'server', detail: 'x'.repeat(2000) }).length).toBeLessThanOrEqual(501);
  });
});
