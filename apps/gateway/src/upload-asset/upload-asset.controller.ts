import { Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import type { Request } from 'express';
import { CurrentUser } from '../auth/current-user';
import { ApiException, invalidRequest } from '../errors/api-exception';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';
import { mediaType, readBody } from '../http/read-body';
import { newAssetId, storeAsset } from './asset-storage';
import { sniffImage } from './image-header';

const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/webp']);

@Controller('v1/assets')
export class UploadAssetController {
  constructor(@Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps) {}

  /** A reference image as the raw body; the bytes must be the image type the Content-Type names. */
  @Post()
  @HttpCode(201)
  async upload(@CurrentUser() userId: string, @Req() req: Request) {
    const declared = mediaType(req);
    if (!IMAGE_TYPES.has(declared)) {
      throw new ApiException('unsupported_media_type', 'Upload a PNG, JPEG or WebP image as the raw body with its Content-Type.');
    }
    const data = await readBody(req, this.deps.config.ASSET_MAX_BYTES);
    if (data.length === 0) throw invalidRequest('The upload is empty.');
    const image = sniffImage(data);
    if (!image) throw new ApiException('unsupported_media_type', 'The file is not a readable PNG, JPEG or WebP image.');
    if (image.contentType !== declared) {
      throw new ApiException('unsupported_media_type', `The file is a ${image.contentType} image, not ${declared}.`);
    }
    const asset = { id: newAssetId(), userId, contentType: image.contentType, bytes: data.length, width: image.width, height: image.height, createdAt: new Date().toISOString() };
    await storeAsset(this.deps.config.STORAGE_DIR, asset, data);
    return { id: asset.id, contentType: asset.contentType, bytes: asset.bytes, width: asset.width, height: asset.height };
  }
}
