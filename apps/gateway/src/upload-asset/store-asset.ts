import type { UploadedAsset } from '@reelay/contracts';
import { storeUserImage } from '@reelay/storage';
import type { GatewayDeps } from '../gateway-deps';
import { checkDeclaredType, inspectUpload } from './inspect-upload';

/**
 * Checks an uploaded image (415 unless a readable PNG, JPEG or WebP of the declared type) and stores
 * it as an asset of its owner (intake serves a job's `{assetId}` only to that owner).
 */
export async function storeAsset(deps: GatewayDeps, userId: string, declared: string, data: Buffer): Promise<UploadedAsset> {
  checkDeclaredType(declared);
  const { width, height, contentType } = inspectUpload(declared, data);
  const id = await storeUserImage(deps.storage, userId, data, { contentType, width, height });
  return { id, contentType, bytes: data.length, width, height };
}
