import { randomInt } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageType } from './image-header';

export interface StoredAsset {
  id: string;
  userId: string;
  contentType: ImageType;
  bytes: number;
  width: number;
  height: number;
  createdAt: string;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const newAssetId = () => `asset_${Array.from({ length: 24 }, () => BASE62[randomInt(62)]).join('')}`;

export const assetPath = (storageDir: string, id: string) => join(storageDir, 'assets', id);

/**
 * Writes `assets/<id>` then its `<id>.json` sidecar (owner, type, size, dimensions). Each file is
 * written under a temporary name and renamed, and the sidecar last, so a sidecar means a complete asset.
 */
export async function storeAsset(storageDir: string, asset: StoredAsset, data: Buffer): Promise<void> {
  const dir = join(storageDir, 'assets');
  await mkdir(dir, { recursive: true });
  const file = assetPath(storageDir, asset.id);
  await writeFile(`${file}.tmp`, data);
  await rename(`${file}.tmp`, file);
  await writeFile(`${file}.json.tmp`, JSON.stringify(asset));
  await rename(`${file}.json.tmp`, `${file}.json`);
}
