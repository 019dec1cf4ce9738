import { ProviderCallbackCommand } from './provider-callback-command';

describe('ProviderCallbackCommand', () => {
  const forwarded = {
    provider: 'seedance',
    headers: { 'content-type': 'application/json' },
    bodyBase64: Buffer.from('{"id":"t1"}').toString('base64'),
    query: 'token=abc',
    receivedAt: '2026-01-01T00:00:00.000Z',
    correlationId: 'corr-1',
  };

  it("takes the gateway's forwarded callback, keeping fields it does not know", () => {
    expect(ProviderCallbackCommand.parse({ ...forwarded, later: 1 })).toEqual({ ...forwarded, later: 1 });
  });

  it('takes a text body and repeated headers', () => {
    expect(ProviderCallbackCommand.safeParse({ provider: 'luma', headers: { via: ['a', 'b'] }, body: '{}' }).success).toBe(true);
  });

  it('refuses a callback without a body or provider', () => {
    expect(ProviderCallbackCommand.safeParse({ provider: 'luma', headers: {} }).success).toBe(false);
    expect(ProviderCallbackCommand.safeParse({ headers: {}, body: '{}' }).success).toBe(false);
  });
});
