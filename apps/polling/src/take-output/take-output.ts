import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { JobOutput } from '@reelay/contracts';
import { Mp4Scanner } from '@reelay/media';
import { isProviderError, type OutputDownload, type ProviderAdapter } from '@reelay/providers';
import { outputKey, type BlobStorage } from '@reelay/storage';
import { judgeOutput, type OutputRules, type OutputVerdict } from './output-verdict';

export type { OutputRules } from './output-verdict';

export type CustodyResult =
  | { kind: 'stored'; output: JobOutput }
  /** The output is gone, expired, empty or not a video: `output_missing`. */
  | { kind: 'missing'; detail: string }
  /** The download failed in a way worth trying again (provider 5xx, timeout, network). */
  | { kind: 'retry'; detail: string; retryAfterMs?: number };

class OutputTooLargeError extends Error {}
class CutShortError extends Error {}
class RefusedError extends Error {}

/**
 * Copies a succeeded task's output into reelay's storage (streamed, with a byte cap; memory stays
 * flat whatever the size) and checks it before it takes the job's key, so a copy that is not the
 * video never replaces one. A key that already holds a file is replaced only when `recorded`
 * says no `JobSucceeded` points at it yet: a crash between the copy and that append just copies
 * again, while a check that lost its lease and copies late leaves the recorded file alone.
 */
export async function takeOutput(
  deps: { storage: BlobStorage; outputRules: OutputRules },
  jobId: string,
  adapter: ProviderAdapter,
  outputUrl: string,
  recorded: () => Promise<boolean>,
): Promise<CustodyResult> {
  const rules = deps.outputRules;
  let res: OutputDownload;
  try {
    res = await adapter.fetchOutput(outputUrl, { timeoutMs: rules.downloadTimeoutMs });
  } catch (err) {
    if (isProviderError(err)) {
      if (err.retryable) return { kind: 'retry', detail: err.detail, ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}) };
      return { kind: 'missing', detail: err.detail };
    }
    return { kind: 'retry', detail: `output download failed: ${(err as Error).message}` };
  }
  const declaredLength = Number(res.headers.get('content-length') ?? NaN);
  if (declaredLength > rules.maxBytes) {
    res.body.destroy();
    return { kind: 'missing', detail: `output is ${declaredLength} bytes, over the ${rules.maxBytes} byte cap` };
  }

  // A decoding transport (fetch) hands over more bytes than a content-encoded length says.
  const encoding = res.headers.get('content-encoding');
  const exactLength = !encoding || encoding === 'identity' ? declaredLength : NaN;
  const hash = createHash('sha256');
  const mp4 = new Mp4Scanner();
  let bytes = 0;
  async function* capped(source: Readable) {
    for await (const chunk of source) {
      const buf = chunk as Buffer;
      bytes += buf.length;
      if (bytes > rules.maxBytes) throw new OutputTooLargeError();
      hash.update(buf);
      mp4.feed(buf);
      yield buf;
    }
    // Node's client already fails a body cut short when it has a length or is chunked; this also
    // covers an injected transport or adapter that ends a short body cleanly. Throwing here fails
    // the put, so the short file is never moved into place.
    if (Number.isFinite(exactLength) && bytes !== exactLength) throw new CutShortError(`output copy was cut short: ${bytes} of ${exactLength} bytes`);
  }
  let accepted = undefined as Extract<OutputVerdict, { ok: true }> | undefined;
  const accept = () => {
    // Judged on what was seen while copying: the file is never read back into memory.
    const probe = mp4.result();
    // With no exact length to hold the body to, a connection closed early ends it cleanly; the
    // scanner sees the last box cut short, which is worth another download, not a failed job.
    if (!probe && mp4.cutShort()) throw new CutShortError(`output copy ended inside an MP4 box after ${bytes} bytes`);
    const verdict = judgeOutput({ bytes, probe }, res.headers.get('content-type'), rules);
    if (!verdict.ok) throw new RefusedError(verdict.reason);
    accepted = verdict;
  };
  try {
    // Plain: JobSucceeded records the output's type, size and hash, so storage keeps no description.
    await deps.storage.put(outputKey(jobId), Readable.from(capped(res.body)), undefined, { accept, replaceExisting: async () => !(await recorded()) });
  } catch (err) {
    res.body.destroy(); // a put that failed before reading it never started the copy that would close it
    if (err instanceof OutputTooLargeError) return { kind: 'missing', detail: `output exceeds the ${rules.maxBytes} byte cap` };
    if (err instanceof RefusedError) return { kind: 'missing', detail: err.message };
    if (err instanceof CutShortError) return { kind: 'retry', detail: err.message };
    return { kind: 'retry', detail: `output copy failed: ${(err as Error).message}` };
  }
  const verdict = accepted!; // a put resolves only after accept() passed
  return {
    kind: 'stored',
    output: {
      url: `/v1/jobs/${jobId}/content`,
      contentType: verdict.contentType,
      bytes,
      durationSeconds: verdict.durationSeconds,
      width: verdict.width,
      height: verdict.height,
      sha256: hash.digest('hex'),
    },
  };
}
