import { Inject, Injectable } from '@nestjs/common';
import { jobStreamId } from '@reelay/contracts';
import { foldRecordedJob } from '@reelay/job-domain';
import { Semaphore } from '@reelay/messaging';
import { extractPoster } from '@reelay/providers';
import { outputKey, posterKey } from '@reelay/storage';
import { ApiException } from '../errors/api-exception';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';
import { outputDeleted } from '../job-content/serve-output';
import { withLocalFile } from './local-file';

const busy = () =>
  new ApiException('service_unavailable', 'Posters are being made for many videos at once: try again in a moment.', { headers: { 'Retry-After': '5' } });

/**
 * A job's poster, made from its stored video on first request and kept beside it, so later
 * requests, on any replica, read it back. Requests for one job on one process share a run; at most
 * POSTER_MAX_CONCURRENT run at once. Made on request rather than when the job succeeds, so the
 * many videos nobody asks a still of cost no ffmpeg run.
 */
@Injectable()
export class PosterMaker {
  private readonly making = new Map<string, Promise<Buffer>>();
  private readonly slots: Semaphore;

  constructor(@Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps) {
    this.slots = new Semaphore(deps.config.POSTER_MAX_CONCURRENT);
  }

  /** The poster of a succeeded job whose video is stored. */
  async poster(jobId: string, durationSeconds: number | null): Promise<Buffer> {
    const kept = await this.deps.storage.stat(posterKey(jobId));
    if (kept) return this.deps.storage.read(posterKey(jobId));
    let run = this.making.get(jobId);
    if (!run) {
      run = this.make(jobId, durationSeconds).finally(() => this.making.delete(jobId));
      this.making.set(jobId, run);
    }
    return run;
  }

  private async make(jobId: string, durationSeconds: number | null): Promise<Buffer> {
    const signal = AbortSignal.timeout(this.deps.config.POSTER_TIMEOUT_MS);
    await this.slots.acquire(signal).catch(() => Promise.reject(busy()));
    let image: Buffer;
    try {
      image = await withLocalFile(this.deps.storage, outputKey(jobId), (file) => extractPoster(file, durationSeconds, { signal }));
    } catch (err) {
      if (signal.aborted) throw busy();
      await this.unlessDeleted(jobId);
      this.deps.logger.error({ jobId, err: String(err) }, 'could not make a poster from a stored video');
      throw new ApiException('not_found', 'No poster could be made from this video.');
    } finally {
      this.slots.release();
    }
    await this.deps.storage.put(posterKey(jobId), image, undefined, { keepExisting: true });
    // The video may have been deleted while ffmpeg ran, its files removed before this one landed.
    await this.unlessDeleted(jobId).catch(async (err: unknown) => {
      await this.deps.storage.remove(posterKey(jobId));
      throw err;
    });
    return image;
  }

  private async unlessDeleted(jobId: string): Promise<void> {
    const { state } = foldRecordedJob(await this.deps.store.readStream(jobStreamId(jobId)));
    if (state.outputDeletedAt) throw outputDeleted(state.outputDeletedAt);
  }
}
