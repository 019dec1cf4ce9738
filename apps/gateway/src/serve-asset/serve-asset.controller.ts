import { pipeline } from 'node:stream/promises';
import { Controller, Get, Inject, Param, Query, Res } from '@nestjs/common';
import { AssetContentQuery } from '@reelay/contracts';
import { assetKey, assetSignatureValid } from '@reelay/storage';
import type { Response } from 'express';
import { PublicRoute } from '../auth/current-user';
import { notFound } from '../errors/api-exception';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';
import { parseQuery } from '../http/parse-query';

/**
 * An uploaded reference image, for the provider dispatch handed a signed link to (providers fetch
 * images by URL and hold no reelay key). Without `ASSET_URL_SECRET` nothing is served; a wrong,
 * expired or foreign signature answers 404 like an asset that does not exist.
 */
@Controller('v1/assets')
export class ServeAssetController {
  constructor(@Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps) {}

  @Get(':id/content')
  @PublicRoute()
  async content(@Param('id') id: string, @Query() query: Record<string, unknown>, @Res() res: Response): Promise<void> {
    const { expires, sig } = parseQuery(AssetContentQuery, query);
    const secret = this.deps.config.ASSET_URL_SECRET;
    if (!secret || !/^asset_[A-Za-z0-9]{1,64}$/.test(id) || !assetSignatureValid(secret, id, expires, sig, new Date())) throw notFound('asset');
    const info = await this.deps.storage.stat(assetKey(id));
    if (!info?.contentType) throw notFound('asset');
    res.status(200).set({ 'Content-Type': info.contentType, 'Content-Length': String(info.bytes), 'Cache-Control': 'private, max-age=300', 'X-Content-Type-Options': 'nosniff' });
    await pipeline(this.deps.storage.stream(assetKey(id)), res).catch((err: unknown) => {
      if (!res.writableEnded) res.destroy();
      if ((err as { code?: string }).code !== 'ERR_STREAM_PREMATURE_CLOSE') this.deps.logger.warn({ err, assetId: id }, 'asset stream failed');
    });
  }
}
