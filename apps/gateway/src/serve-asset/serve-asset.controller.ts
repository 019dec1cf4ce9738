import { Controller, Get, Inject, Param, Query, Res } from '@nestjs/common';
import { AssetContentQuery, AssetId } from '@reelay/contracts';
import { assetKey, assetSignatureValid, usingBlob } from '@reelay/storage';
import type { Response } from 'express';
import { PublicRoute } from '../auth/current-user';
import { notFound } from '../errors/api-exception';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';
import { parseQuery } from '../http/parse-query';
import { streamToResponse } from '../http/stream-to-response';

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
    if (!secret || !AssetId.safeParse(id).success || !assetSignatureValid(secret, id, expires, sig, new Date())) throw notFound('asset');
    // Its type from its description (an asset is written once), its size and bytes from the file held
    // open: an asset deleted from here on is still answered whole, with the size it is sent with.
    const info = await this.deps.storage.stat(assetKey(id));
    const blob = info?.contentType ? await this.deps.storage.open(assetKey(id)) : null;
    if (!info?.contentType || !blob) throw notFound('asset');
    await usingBlob(blob, async (held) => {
      res.status(200).set({ 'Content-Type': info.contentType, 'Content-Length': String(held.bytes), 'Cache-Control': 'private, max-age=300', 'X-Content-Type-Options': 'nosniff' });
      await streamToResponse(held.stream(), res, this.deps.logger, { assetId: id });
    });
  }
}
