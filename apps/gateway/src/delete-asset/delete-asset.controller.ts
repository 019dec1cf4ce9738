import { Controller, Delete, HttpCode, Inject, Param } from '@nestjs/common';
import { AssetId } from '@reelay/contracts';
import { assetKey } from '@reelay/storage';
import { CurrentUser } from '../auth/current-user';
import { ApiException, notFound } from '../errors/api-exception';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';
import { unlessJobListRebuilding } from '../jobs/job-view-sql';
import { jobUsingImage } from './asset-retention';

@Controller('v1/assets')
export class DeleteAssetController {
  constructor(@Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps) {}

  /**
   * Deletes one of the user's uploaded images at once, unless an unfinished job names it (409: the
   * job reads it again when it is sent to the provider, and the provider fetches it), and 503 while
   * the job list is rebuilt (it cannot tell which jobs are unfinished then). A job made
   * from it later (a regenerate) fails with asset_fetch_failed. Another user's asset, or one
   * already deleted, answers 404.
   */
  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentUser() userId: string, @Param('id') id: string): Promise<void> {
    if (!AssetId.safeParse(id).success) throw notFound('asset');
    const info = await this.deps.storage.stat(assetKey(id));
    if (!info || info.metadata.userId !== userId) throw notFound('asset');
    await unlessJobListRebuilding(this.deps.dataSource, 'whether an unfinished job needs this image');
    const job = await jobUsingImage(this.deps.dataSource, userId, id);
    if (job) throw new ApiException('invalid_state', `This image is used by a job that has not finished (${job}). Delete it once that job has finished, or cancel the job.`);
    await this.deps.storage.remove(assetKey(id));
  }
}
