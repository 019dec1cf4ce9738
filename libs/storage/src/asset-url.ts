import { createHmac, timingSafeEqual } from 'node:crypto';

/** What signs links to uploaded assets: a secret shared by dispatch and the gateway, and the gateway's public address. */
export interface AssetUrlSigner {
  secret: string;
  publicBaseUrl: string;
}

/**
 * A link a provider can fetch an uploaded reference image from, without an API key: the gateway
 * serves `GET /v1/assets/{id}/content` to whoever holds an unexpired signature for that asset.
 * Providers that fetch URLs (Luma, Runway...) get this instead of a `data:` URL they may refuse.
 */
export function signedAssetUrl(signer: AssetUrlSigner, assetId: string, expiresAt: Date): string {
  const expires = String(Math.floor(expiresAt.getTime() / 1000));
  const base = signer.publicBaseUrl.replace(/\/+$/, '');
  return `${base}/v1/assets/${encodeURIComponent(assetId)}/content?expires=${expires}&sig=${signature(signer.secret, assetId, expires)}`;
}

/** True when `sig` was made with `secret` for this asset and `expires` (unix seconds) has not passed. */
export function assetSignatureValid(secret: string, assetId: string, expires: string, sig: string, now: Date): boolean {
  if (!/^\d{1,12}$/.test(expires) || Number(expires) * 1000 <= now.getTime()) return false;
  const expected = Buffer.from(signature(secret, assetId, expires));
  const given = Buffer.from(sig);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function signature(secret: string, assetId: string, expires: string): string {
  return createHmac('sha256', secret).update(`reelay-asset\n${assetId}\n${expires}`).digest('base64url');
}
