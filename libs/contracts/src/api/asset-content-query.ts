import { z } from 'zod';

/** `GET /v1/assets/{id}/content`: the signature dispatch put in the link it gave a provider. */
export const AssetContentQuery = z.strictObject({
  expires: z.string().regex(/^\d{1,12}$/).describe('Unix seconds after which the link stops working'),
  sig: z.string().max(100).describe('HMAC-SHA256 of the asset id and expiry, base64url'),
});
export type AssetContentQuery = z.infer<typeof AssetContentQuery>;
