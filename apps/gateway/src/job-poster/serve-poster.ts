import type { JobState } from '@reelay/job-domain';
import type { Request, Response } from 'express';
import { ApiException } from '../errors/api-exception';
import { noneMatchHits } from '../http/etag';
import { OUTPUT_CACHE_CONTROL, outputDeleted } from '../job-content/serve-output';
import type { PosterMaker } from './poster-maker';

/** Part of the ETag: bump it with a change to how stills are made. Stills already kept are served as they were made. */
const POSTER_VERSION = 'v1';

/** A succeeded job's poster as WebP; 404 before it succeeded, 410 once its video is deleted. */
export async function servePoster(posters: PosterMaker, jobId: string, state: JobState, req: Request, res: Response): Promise<void> {
  if (state.status !== 'succeeded' || !state.output) throw new ApiException('not_found', 'The poster is not available: the job has not succeeded.');
  if (state.outputDeletedAt) throw outputDeleted(state.outputDeletedAt);
  // Made from the video alone, so the video's hash names it, with how it is made (POSTER_VERSION).
  const etag = `"poster-${POSTER_VERSION}-${state.output.sha256}"`;
  const headers = { ETag: etag, 'Cache-Control': OUTPUT_CACHE_CONTROL };
  if (noneMatchHits(req.headers['if-none-match'], etag)) {
    res.status(304).set(headers).end();
    return;
  }
  const image = await posters.poster(jobId, state.output.durationSeconds);
  res.status(200).set({ ...headers, 'Content-Type': 'image/webp', 'Content-Length': String(image.length) }).end(image);
}
