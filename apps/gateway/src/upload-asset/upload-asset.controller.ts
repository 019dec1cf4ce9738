import { Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { assetKey } from '@reelay/storage';
import type { Request } from 'express';
import { CurrentUser } from '../auth/current-user';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';
import { mediaType, readBody } from '../http/read-body';
import { checkDeclaredType, inspectUpload, newAssetId } from './inspect-upload';

@Controller('v1/assets')
export class UploadAssetController {
  constructor(@Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps) {}

  /**
   * A reference image as the raw body, stored at `assets/<id>` with the owner in its metadata
   * (intake serves a job's `{assetId}` only to that owner).
   */
  @Post()
  @HttpCode(201)
  async upload(@CurrentUser() userId: string, @Req() req: Request) {
    const declared = mediaType(req);
    checkDeclaredType(declared);
    const data = await readBody(req, this.deps.config.ASSET_MAX_BYTES);
    const image = inspectUpload(declared, data);
    const id = newAssetId();
    const { width, height, contentType } = image;
    await this.deps.storage.put(assetKey(id), data, { contentType, metadata: { userId, width, height, createdAt: new Date().toISOString() } });
    return { id, contentType, bytes: data.length, width, height };
  }
}
