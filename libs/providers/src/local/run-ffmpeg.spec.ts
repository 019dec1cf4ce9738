import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FfmpegFailedError, runFfmpeg } from './run-ffmpeg';

describe('runFfmpeg: whose trouble an ended run is', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'run-ffmpeg-spec-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A stand-in for ffmpeg that ends as `body` says. */
  async function fakeFfmpeg(name: string, body: string): Promise<string> {
    const file = join(dir, name);
    await writeFile(file, `#!/bin/sh\n${body}\n`);
    await chmod(file, 0o755);
    return file;
  }

  it('given an error exit or a crash, then the input is at fault (FfmpegFailedError, with its last words)', async () => {
    await expect(runFfmpeg(await fakeFfmpeg('fails', 'echo "Invalid data found" >&2; exit 1'), [])).rejects.toThrow(new FfmpegFailedError('ffmpeg exited with 1: Invalid data found'));
    await expect(runFfmpeg(await fakeFfmpeg('crashes', 'kill -SEGV $$'), [])).rejects.toBeInstanceOf(FfmpegFailedError);
  });

  it('given a kill from outside (the out-of-memory killer), then the host is at fault: a plain Error', async () => {
    const killed = await runFfmpeg(await fakeFfmpeg('killed', 'kill -KILL $$'), []).catch((e: unknown) => e);
    expect(killed).toBeInstanceOf(Error);
    expect(killed).not.toBeInstanceOf(FfmpegFailedError);
    expect((killed as Error).message).toMatch(/SIGKILL/);
  });
});
