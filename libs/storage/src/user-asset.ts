import { createHash } from 'node:crypto';
import { assetKey, type BlobStorage } from './blob-storage';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * An asset's id, from its owner and its bytes: the same image sent again by the same user is the
 * same asset. So a retried submit that carries its image inline (POST /v1/videos with a file or a
 * data: URL) names the same reference image, and its Idempotency-Key replays the job instead of
 * refusing a "different" request; retries store no copies either.
 */
export function assetIdFor(userId: string, data: Buffer): string {
  const digest = createHash('sha256').update(userId).update('\0').update(data).digest();
  return `asset_${Array.from(digest.subarray(0, 24), (byte) => BASE62[byte % 62]).join('')}`;
}

/**
 * Stores an image of `userId` at `assets/<id>` with the owner in its metadata (only that owner's jobs
 * may name it) and answers its id. Storing an image stored before writes the same bytes under the
 * same id again, which also starts its retention over.
 */
export async function storeUserImage(storage: BlobStorage, userId: string, data: Buffer, image: { contentType: string; width: number; height: number }): Promise<string> {
  const id = assetIdFor(userId, data);
  const { contentType, width, height } = image;
  await storage.put(assetKey(id), data, { contentType, metadata: { userId, width, height, createdAt: new Date().toISOString() } });
  return id;
}
