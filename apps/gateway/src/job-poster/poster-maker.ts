import { Inject, Injectable, Optional } from '@nestjs/common';
import { Semaphore } from '@reelay/messaging';
import { extractPoster, FfmpegFailedError } from '@reelay/providers';
import { outputKey, posterKey } from '@reelay/storage';
import { ApiException } from '../errors/api-exception';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';
import { throwIfOutputDeletedSince } from '../job-content/serve-output';
import { withLocalFile } from './local-file';
import { POSTER_METRICS, type PosterMetrics, type PosterOutcome } from './poster-metrics';

/** Makes a still of a video file (tests give their own). */
export const EXTRACT_POSTER = Symbol('EXTRACT_POSTER');
export type ExtractPoster = (videoFile: string, durationSeconds: number | null, options: { signal: AbortSignal }) => Promise<Buffer>;

/** A poster run's refusal, with the outcome it is counted as. */
class PosterRefusal extends ApiException {
  constructor(
    readonly outcome: Exclude<PosterOutcome, 'kept' | 'made'>,
    ...error: ConstructorParameters<typeof ApiException>
  ) {
    super(...error);
  }
}

const busy = () => new PosterRefusal('busy', 'service_unavailable', 'The poster could not be made in time: try again in a moment.', { headers: { 'Retry-After': '5' } });
const cannotMake = () => new PosterRefusal('unavailable', 'service_unavailable', 'Posters cannot be made on this server right now.', { headers: { 'Retry-After': '60' } });
const abandoned = () => new PosterRefusal('abandoned', 'service_unavailable', 'The poster was not made: nobody waited for it.', { headers: { 'Retry-After': '5' } });
const unreadable = () => new PosterRefusal('unreadable', 'not_found', 'No poster could be made from this video.');
const isMissing = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';

/** One run of ffmpeg for a job's poster, shared by the requests that come while it is under way. */
interface PosterRun {
  still: Promise<Buffer>;
  /** Requests waiting for it now. */
  waiting: number;
  /** It has its turn (ffmpeg runs): it goes on whether or not anyone waits. */
  started: boolean;
  /** Aborted when its last request gives up before it has its turn. */
  abandon: AbortController;
}

/** How long one run may take, the wait for a turn included, whatever its requests wait: a run past it is given up. */
export const POSTER_RUN_LIMIT_MS = 5 * 60_000;

/**
 * A job's poster, made from its stored video on first request and kept beside it, so later
 * requests, on any replica, read it back. Requests for one job on one process share a run; each
 * waits for it up to POSTER_TIMEOUT_MS (503 busy past it), while the run goes on up to
 * POSTER_RUN_LIMIT_MS, so a still slower to make than one request waits is there for a later one.
 * At most POSTER_MAX_CONCURRENT run at once. Made on request rather than when the job succeeds, so
 * the many videos nobody asks a still of cost no ffmpeg run.
 */
@Injectable()
export class PosterMaker {
  private readonly making = new Map<string, PosterRun>();
  private readonly slots: Semaphore;

  constructor(
    @Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps,
    @Optional() @Inject(EXTRACT_POSTER) private readonly extract: ExtractPoster = extractPoster,
    @Optional() @Inject(POSTER_METRICS) private readonly metrics?: PosterMetrics,
  ) {
    this.slots = new Semaphore(deps.config.POSTER_MAX_CONCURRENT);
  }

  /** The poster of a succeeded job whose video is stored. */
  async poster(jobId: string, durationSeconds: number | null): Promise<Buffer> {
    // Read straight away: a poster removed since (its video deleted) is then made again, and that run finds the deletion.
    const kept = await this.deps.storage.read(posterKey(jobId)).catch((err: unknown) => (isMissing(err) ? null : Promise.reject(err)));
    if (kept) {
      this.metrics?.posters.inc({ outcome: 'kept' });
      return kept;
    }
    let run = this.making.get(jobId);
    if (!run) {
      const entry: PosterRun = { still: Promise.resolve(Buffer.alloc(0)), waiting: 0, started: false, abandon: new AbortController() };
      entry.still = this.counted(jobId, durationSeconds, entry).finally(() => this.making.delete(jobId));
      // A run whose requests all gave up settles with nobody waiting: its refusal is counted, not thrown at the process.
      entry.still.catch(() => undefined);
      this.making.set(jobId, (run = entry));
    }
    return this.waitFor(run);
  }

  /**
   * The run's still, or 503 busy once this request has waited POSTER_TIMEOUT_MS. A run that has its
   * turn goes on for later requests; one still waiting for a turn when its last request gives up is
   * abandoned, so that requests for many videos at once do not queue ffmpeg runs nobody waits for.
   */
  private async waitFor(run: PosterRun): Promise<Buffer> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = busy();
    const gaveUp = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(timedOut), this.deps.config.POSTER_TIMEOUT_MS);
    });
    run.waiting++;
    try {
      return await Promise.race([run.still, gaveUp]);
    } catch (err) {
      // The run's own refusals are counted by the run; this one is the request's.
      if (err === timedOut) this.metrics?.posters.inc({ outcome: 'busy' });
      throw err;
    } finally {
      clearTimeout(timer);
      if (--run.waiting === 0 && !run.started) run.abandon.abort();
    }
  }

  private async counted(jobId: string, durationSeconds: number | null, run: PosterRun): Promise<Buffer> {
    const started = performance.now();
    let outcome: PosterOutcome = 'made';
    try {
      return await this.make(jobId, durationSeconds, run);
    } catch (err) {
      outcome = err instanceof PosterRefusal ? err.outcome : err instanceof ApiException && err.code === 'output_deleted' ? 'deleted' : 'unavailable';
      throw err;
    } finally {
      this.metrics?.posters.inc({ outcome });
      this.metrics?.posterSeconds.observe((performance.now() - started) / 1000);
    }
  }

  private async make(jobId: string, durationSeconds: number | null, run: PosterRun): Promise<Buffer> {
    const signal = AbortSignal.timeout(POSTER_RUN_LIMIT_MS);
    await this.slots.acquire(AbortSignal.any([signal, run.abandon.signal])).catch(() => Promise.reject(run.abandon.signal.aborted ? abandoned() : busy()));
    run.started = true;
    let image: Buffer;
    try {
      image = await withLocalFile(this.deps.storage, outputKey(jobId), signal, (file) => this.extract(file, durationSeconds, { signal }));
    } catch (err) {
      if (signal.aborted) throw busy();
      await throwIfOutputDeletedSince(this.deps.store, jobId);
      if (err instanceof FfmpegFailedError) {
        this.deps.logger.warn({ jobId, err: err.message }, 'no poster can be made from this stored video');
        throw unreadable();
      }
      this.deps.logger.error({ jobId, err: String(err) }, 'could not make a poster: ffmpeg or the temporary directory is not usable');
      throw cannotMake();
    } finally {
      this.slots.release();
    }
    await this.keep(jobId, image);
    return image;
  }

  /** Stores the poster for later requests; one that cannot be stored is still answered now. */
  private async keep(jobId: string, image: Buffer): Promise<void> {
    try {
      await this.deps.storage.put(posterKey(jobId), image, undefined, { keepExisting: true });
    } catch (err) {
      this.deps.logger.warn({ jobId, err: String(err) }, 'could not keep a poster; the next request makes it again');
      return;
    }
    // The video may have been deleted while ffmpeg ran, its files removed before this one landed.
    try {
      await throwIfOutputDeletedSince(this.deps.store, jobId);
    } catch (err) {
      if (err instanceof ApiException && err.code === 'output_deleted') await this.deps.storage.remove(posterKey(jobId));
      throw err;
    }
  }
}
