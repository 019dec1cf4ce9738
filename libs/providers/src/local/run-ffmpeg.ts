import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunFfmpegOptions {
  signal?: AbortSignal;
  /** Each whole line ffmpeg writes to stdout (its `-progress pipe:1` report). */
  onLine?: (line: string) => void;
  /** What the rejection says when `signal` ended the run. */
  abortedMessage?: string;
}

/** ffmpeg ran and ended with an error: what it was given could not be read or made (not a missing or broken ffmpeg). */
export class FfmpegFailedError extends Error {
  override readonly name = 'FfmpegFailedError';
}

/**
 * Runs ffmpeg to its end; rejects with FfmpegFailedError (the last lines of its stderr) when it
 * fails or crashes, with a plain Error when it was killed from outside, and kills it on abort. It gets no environment but PATH: it may be decoding files reelay
 * did not make, and the process's secrets are none of its business.
 */
export function runFfmpeg(ffmpeg: string, args: string[], options: RunFfmpegOptions = {}): Promise<void> {
  const aborted = () => new Error(options.abortedMessage ?? 'ffmpeg aborted');
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) return reject(aborted());
    const child = spawn(ffmpeg, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } });
    let stderr = '';
    let buffered = '';
    const onAbort = () => child.kill('SIGKILL');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (!options.onLine) return;
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) options.onLine(line);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-2000);
    });
    child.on('error', (err) => {
      options.signal?.removeEventListener('abort', onAbort);
      reject(err);
    });
    child.on('close', (code, signal) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (options.signal?.aborted) return reject(aborted());
      if (code === 0) return resolve();
      // SIGKILL comes from outside (most often the kernel's out-of-memory killer): the host's trouble.
      // A crash (SIGSEGV, SIGABRT...) is what the input made of ffmpeg, like an error exit.
      if (signal === 'SIGKILL') return reject(new Error('ffmpeg was killed (SIGKILL), most likely out of memory'));
      reject(new FfmpegFailedError(`ffmpeg exited with ${code ?? signal}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
}

/**
 * Runs ffmpeg in a temporary directory of its own (`args` is given that directory and names its
 * input and output files in it) and answers the one file it writes to `output` there; rejects with
 * FfmpegFailedError(`nothingMade`) when ffmpeg ends well but writes nothing. The directory goes afterwards.
 */
export async function ffmpegOneFile(
  ffmpeg: string,
  prefix: string,
  args: (dir: string) => Promise<{ args: string[]; output: string }>,
  options: RunFfmpegOptions & { nothingMade: string },
): Promise<Buffer> {
  const work = await mkdtemp(join(tmpdir(), prefix));
  try {
    const run = await args(work);
    await runFfmpeg(ffmpeg, run.args, options);
    const made = await readFile(run.output).catch(() => Buffer.alloc(0));
    if (made.length === 0) throw new FfmpegFailedError(options.nothingMade);
    return made;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
