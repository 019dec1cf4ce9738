import { assetSignatureValid, signedAssetUrl } from './asset-url';

const signer = { secret: 'a-secret-shared-by-dispatch-and-gateway', publicBaseUrl: 'https://reelay.example.com/' };
const now = new Date('2026-12-04T12:00:00Z');

describe('signed asset URLs', () => {
  const url = new URL(signedAssetUrl(signer, 'asset_abc123', new Date(now.getTime() + 3600_000)));
  const expires = url.searchParams.get('expires')!;
  const sig = url.searchParams.get('sig')!;

  it('point at the gateway\'s asset content route and verify for that asset until they expire', () => {
    expect(`${url.origin}${url.pathname}`).toBe('https://reelay.example.com/v1/assets/asset_abc123/content');
    expect(assetSignatureValid(signer.secret, 'asset_abc123', expires, sig, now)).toBe(true);
    expect(assetSignatureValid(signer.secret, 'asset_abc123', expires, sig, new Date(now.getTime() + 3600_000))).toBe(false);
  });

  it('do not verify for another asset, another expiry, another secret, or a mangled signature', () => {
    expect(assetSignatureValid(signer.secret, 'asset_other', expires, sig, now)).toBe(false);
    expect(assetSignatureValid(signer.secret, 'asset_abc123', String(Number(expires) + 1), sig, now)).toBe(false);
    expect(assetSignatureValid('another-secret-another-secret-xx', 'asset_abc123', expires, sig, now)).toBe(false);
    expect(assetSignatureValid(signer.secret, 'asset_abc123', expires, `${sig}x`, now)).toBe(false);
    expect(assetSignatureValid(signer.secret, 'asset_abc123', '1e12', sig, now)).toBe(false);
  });
});
