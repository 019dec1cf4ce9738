import { Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import type { UploadedAsset } from '@reelay/contracts';
import type { Request } from 'express';
import { CurrentUser } from '../auth/current-user';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';
import { mediaType, readBody } from '../http/read-body';
import { checkDeclaredType } from './inspect-upload';
import { storeAsset } from './store-asset';

@Controller('v1/assets')
export class UploadAssetController {
  constructor(@Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps) {}

  /** A reference image as the raw body with its Content-Type. */
  @Post()
  @HttpCode(201)
  async upload(@CurrentUser() userId: string, @Req() req: Request): Promise<UploadedAsset> {
    const declared = mediaType(req);
    checkDeclaredType(declared); // before reading the body
    const data = await readBody(req, this.deps.config.ASSET_MAX_BYTES);
    return storeAsset(this.deps, userId, declared, data);
  }
}
