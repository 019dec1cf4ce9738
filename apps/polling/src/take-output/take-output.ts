import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { JobOutput } from '@reelay/contracts';
import { Mp4Scanner, type Mp4Info } from '@reelay/media';
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
 * video never replaces one. The first copy placed at the key stays there: a later one (a check
 * retaken after a crash between the copy and JobSucceeded, or one that lost its lease and still
 * runs beside the new holder) is dropped, and the file in place is described instead. So whichever
 * check records JobSucceeded, the recorded size and hash are those of the file served, even when
 * the provider's bytes differ between two downloads. A check that finds a copy in place before it
 * starts does not download at all.
 */
export async function takeOutput(
  deps: { storage: BlobStorage; outputRules: OutputRules },
  jobId: string,
  adapter: ProviderAdapter,
  outputUrl: string,
  /** Whether a `JobSucceeded` of the job is recorded (its file is then never removed here). */
  recorded: () => Promise<boolean>,
): Promise<CustodyResult> {
  const rules = deps.outputRules;
  // A check retaken after a crash between its copy and JobSucceeded finds the copy in place; it must
  // not depend on the provider's link, which may have expired since (that would fail a job whose
  // output reelay already holds).
  const inPlace = await storedCopy(deps, jobId, recorded);
  if (inPlace) return inPlace;
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
  const seen = new OutputDigest();
  async function* capped(source: Readable) {
    for await (const chunk of source) {
      const buf = chunk as Buffer;
      if (seen.bytes + buf.length > rules.maxBytes) throw new OutputTooLargeError();
      seen.feed(buf);
      yield buf;
    }
    // Node's client already fails a body cut short when it has a length or is chunked; this also
    // covers an injected transport or adapter that ends a short body cleanly. Throwing here fails
    // the put, so the short file is never moved into place.
    if (Number.isFinite(exactLength) && seen.bytes !== exactLength) throw new CutShortError(`output copy was cut short: ${seen.bytes} of ${exactLength} bytes`);
  }
  let accepted = undefined as AcceptedOutput | undefined;
  const accept = () => {
    // Judged on what was seen while copying: the file is never read back into memory.
    // With no exact length to hold the body to, a connection closed early ends it cleanly; the
    // scanner sees the last box cut short, which is worth another download, not a failed job.
    if (seen.cutShort()) throw new CutShortError(`output copy ended inside an MP4 box or short of its video data after ${seen.bytes} bytes`);
    const verdict = seen.judge(res.headers.get('content-type'), rules);
    if (!verdict.ok) throw new RefusedError(verdict.reason);
    accepted = verdict;
  };
  let placed: { kept?: true };
  try {
    // Plain: JobSucceeded records the output's type, size and hash, so storage keeps no description.
    placed = await deps.storage.put(outputKey(jobId), Readable.from(capped(res.body)), undefined, { accept, keepExisting: true });
  } catch (err) {
    res.body.destroy(); // a put that failed before reading it never started the copy that would close it
    if (err instanceof OutputTooLargeError) return { kind: 'missing', detail: `output exceeds the ${rules.maxBytes} byte cap` };
    if (err instanceof RefusedError) return { kind: 'missing', detail: err.message };
    if (err instanceof CutShortError) return { kind: 'retry', detail: err.message };
    return { kind: 'retry', detail: `output copy failed: ${(err as Error).message}` };
  }
  if (placed.kept) return describeStored(deps, jobId, recorded);
  return stored(jobId, accepted!, seen); // a put resolves only after accept() passed
}

/**
 * The copy an earlier check of this job placed (a check retried after a crash, or a failed write,
 * between its copy and JobSucceeded), as takeOutput would answer for it; null when there is none.
 */
export async function storedCopy(deps: { storage: BlobStorage; outputRules: OutputRules }, jobId: string, recorded: () => Promise<boolean>): Promise<CustodyResult | null> {
  return (await deps.storage.stat(outputKey(jobId))) ? describeStored(deps, jobId, recorded) : null;
}

/**
 * The output another copy of this job placed first, read back and judged as a download is. Every
 * copy placed passed the same checks first, so one that fails them now was damaged in storage, or
 * judged by other rules (a replica of another release): unless a `JobSucceeded` points at it, it is
 * removed and the next check copies the output again; one that does is left to be served.
 */
async function describeStored(deps: { storage: BlobStorage; outputRules: OutputRules }, jobId: string, recorded: () => Promise<boolean>): Promise<CustodyResult> {
  const key = outputKey(jobId);
  const seen = new OutputDigest();
  try {
    for await (const chunk of deps.storage.stream(key)) seen.feed(chunk as Buffer);
  } catch (err) {
    return { kind: 'retry', detail: `reading the output another copy stored failed: ${(err as Error).message}` };
  }
  const verdict = seen.judge(null, deps.outputRules);
  if (verdict.ok) {
    // Its putter may have stopped between placing it and syncing its directory (a crash, a failed
    // sync): the name must be durable before a JobSucceeded points at it.
    try {
      await deps.storage.makeDurable(key);
    } catch (err) {
      return { kind: 'retry', detail: `making the output another copy stored durable failed: ${(err as Error).message}` };
    }
    return stored(jobId, verdict, seen);
  }
  if (await recorded()) return { kind: 'retry', detail: `the output another copy stored is unusable here (${verdict.reason}), and the job already points at it` };
  await deps.storage.remove(key);
  return { kind: 'retry', detail: `the output another copy stored is unusable (${verdict.reason}); removed it to copy again` };
}

function stored(jobId: string, verdict: AcceptedOutput, seen: OutputDigest): CustodyResult {
  return {
    kind: 'stored',
    output: {
      url: `/v1/jobs/${jobId}/content`,
      contentType: verdict.contentType,
      bytes: seen.bytes,
      durationSeconds: verdict.durationSeconds,
      width: verdict.width,
      height: verdict.height,
      sha256: seen.sha256(),
    },
  };
}

type AcceptedOutput = Extract<OutputVerdict, { ok: true }>;

/** What is learned from an output's bytes as they pass: size, hash, and the MP4 header. */
class OutputDigest {
  bytes = 0;
  private readonly hash = createHash('sha256');
  private readonly mp4 = new Mp4Scanner();
  private probed: Mp4Info | null | undefined;

  feed(buf: Buffer): void {
    this.bytes += buf.length;
    this.hash.update(buf);
    this.mp4.feed(buf);
  }

  /** The bytes stopped inside an MP4 box, or before the end of the video data the header points to (asked once all are fed). */
  cutShort(): boolean {
    return !this.probe() && this.mp4.cutShort();
  }

  judge(declaredType: string | null, rules: OutputRules): OutputVerdict {
    return judgeOutput({ bytes: this.bytes, probe: this.probe() }, declaredType, rules);
  }

  private probe(): Mp4Info | null {
    if (this.probed === undefined) this.probed = this.mp4.result();
    return this.probed;
  }

  sha256(): string {
    return this.hash.digest('hex');
  }
}
