import { jobStreamId } from '@reelay/contracts';
import { foldRecordedJob, type JobState } from '@reelay/job-domain';
import { outputKey, usingBlob } from '@reelay/storage';
import type { Request, Response } from 'express';
import { ApiException } from '../errors/api-exception';
import { noneMatchHits } from '../http/etag';
import { streamToResponse } from '../http/stream-to-response';
import type { GatewayDeps } from '../gateway-deps';
import { parseRange } from './byte-range';

/** Revalidated on every use (a 304 while it is unchanged): a video deleted since must not play from a cache. */
export const OUTPUT_CACHE_CONTROL = 'private, no-cache';

const notReady = () => new ApiException('not_found', 'The video is not available: the job has not succeeded.');
export const outputDeleted = (at: string) => new ApiException('output_deleted', `This video was deleted on ${at}. Generate it again to get a new one.`);

/** 410 when the job's video was deleted since its state was read (the deletion is recorded before its files go). */
export async function throwIfOutputDeletedSince(store: GatewayDeps['store'], jobId: string): Promise<void> {
  const now = foldRecordedJob(await store.readStream(jobStreamId(jobId))).state;
  if (now.outputDeletedAt) throw outputDeleted(now.outputDeletedAt);
}

/** Streams a succeeded job's video from storage, with Range support; 404 before it succeeded, 410 once deleted. */
export async function serveOutput(deps: GatewayDeps, jobId: string, state: JobState, req: Request, res: Response): Promise<void> {
  if (state.status !== 'succeeded' || !state.output) throw notReady();
  if (state.outputDeletedAt) throw outputDeleted(state.outputDeletedAt);
  const output = state.output;
  const key = outputKey(jobId);
  // Held open from here: a deletion while the answer is under way cannot cut it short or change its size.
  const blob = await deps.storage.open(key);
  if (!blob) {
    await throwIfOutputDeletedSince(deps.store, jobId);
    deps.logger.error({ jobId }, 'succeeded job has no output file in storage');
    throw notReady();
  }
  await usingBlob(blob, async (held) => {
    const size = held.bytes;
    const etag = `"${output.sha256}"`;
    // Before Range (RFC 9110 §13.2.2): a player revalidating the copy it holds downloads nothing.
    if (noneMatchHits(req.headers['if-none-match'], etag)) {
      res.status(304).set({ ETag: etag, 'Cache-Control': OUTPUT_CACHE_CONTROL }).end();
      return;
    }
    const range = parseRange(req.headers.range, size);
    if (range === 'unsatisfiable') {
      // Before the video's headers: this answer is a JSON error, not a part of the video.
      throw new ApiException('invalid_request', 'The requested range is outside the video.', { status: 416, headers: { 'Content-Range': `bytes */${size}`, 'Accept-Ranges': 'bytes' } });
    }
    res.set({
      'Content-Type': output.contentType,
      'Accept-Ranges': 'bytes',
      ETag: etag,
      'Cache-Control': OUTPUT_CACHE_CONTROL,
    });
    const { start, end } = range ?? { start: 0, end: size - 1 };
    if (range) res.status(206).set('Content-Range', `bytes ${start}-${end}/${size}`);
    else res.status(200);
    res.set('Content-Length', String(size === 0 ? 0 : end - start + 1));
    if (size === 0) {
      res.end();
      return;
    }
    await streamToResponse(held.stream({ start, end }), res, deps.logger, { jobId });
  });
}
