import type { UploadedAsset } from '@reelay/contracts';
import { assetKey } from '@reelay/storage';
import type { GatewayDeps } from '../gateway-deps';
import { assetIdFor, checkDeclaredType, inspectUpload } from './inspect-upload';

/**
 * Checks an uploaded image (415 unless a readable PNG, JPEG or WebP of the declared type) and stores
 * it at `assets/<id>` with the owner in its metadata (intake serves a job's `{assetId}` only to that
 * owner). Storing an image the user stored before writes the same bytes under the same id again.
 */
export async function storeAsset(deps: GatewayDeps, userId: string, declared: string, data: Buffer): Promise<UploadedAsset> {
  checkDeclaredType(declared);
  const { width, height, contentType } = inspectUpload(declared, data);
  const id = assetIdFor(userId, data);
  await deps.storage.put(assetKey(id), data, { contentType, metadata: { userId, width, height, createdAt: new Date().toISOString() } });
  return { id, contentType, bytes: data.length, width, height };
}
