import { Controller, Delete, HttpCode, Inject, Param } from '@nestjs/common';
import { AssetId } from '@reelay/contracts';
import { assetKey } from '@reelay/storage';
import { CurrentUser } from '../auth/current-user';
import { notFound } from '../errors/api-exception';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';

@Controller('v1/assets')
export class DeleteAssetController {
  constructor(@Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps) {}

  /**
   * Deletes one of the user's uploaded images at once. Jobs that already read it are unaffected;
   * a job that reads it later (one still queued, or a regenerate) fails with asset_fetch_failed.
   * Another user's asset, or one already deleted, answers 404.
   */
  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentUser() userId: string, @Param('id') id: string): Promise<void> {
    if (!AssetId.safeParse(id).success) throw notFound('asset');
    const info = await this.deps.storage.stat(assetKey(id));
    if (!info || info.metadata.userId !== userId) throw notFound('asset');
    await this.deps.storage.remove(assetKey(id));
  }
}
