import { pipeline } from 'node:stream/promises';
import { Controller, Get, Inject, Param, Req, Res } from '@nestjs/common';
import { outputKey } from '@reelay/storage';
import type { Request, Response } from 'express';
import { CurrentUser } from '../auth/current-user';
import { ApiException } from '../errors/api-exception';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';
import { JobReader } from '../jobs/job-reader';
import { parseRange } from './byte-range';

const notReady = () => new ApiException('not_found', 'The video is not available: the job has not succeeded.');

@Controller('v1/jobs')
export class JobContentController {
  constructor(
    @Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps,
    private readonly jobs: JobReader,
  ) {}

  @Get(':id/content')
  async content(@CurrentUser() userId: string, @Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const { state } = await this.jobs.loadOwned(id, userId);
    if (state.status !== 'succeeded' || !state.output) throw notReady();
    const key = outputKey(id);
    const size = (await this.deps.storage.stat(key))?.bytes ?? null;
    if (size === null) {
      this.deps.logger.error({ jobId: id }, 'succeeded job has no output file in storage');
      throw notReady();
    }

    res.set({
      'Content-Type': state.output.contentType,
      'Accept-Ranges': 'bytes',
      ETag: `"${state.output.sha256}"`,
      'Cache-Control': 'private, max-age=3600',
    });
    const range = parseRange(req.headers.range, size);
    if (range === 'unsatisfiable') {
      throw new ApiException('invalid_request', 'The requested range is outside the video.', { status: 416, headers: { 'Content-Range': `bytes */${size}` } });
    }
    const { start, end } = range ?? { start: 0, end: size - 1 };
    if (range) res.status(206).set('Content-Range', `bytes ${start}-${end}/${size}`);
    else res.status(200);
    res.set('Content-Length', String(size === 0 ? 0 : end - start + 1));
    if (size === 0) {
      res.end();
      return;
    }
    await pipeline(this.deps.storage.stream(key, { start, end }), res).catch((err: unknown) => {
      if (!res.writableEnded) res.destroy();
      if ((err as { code?: string }).code !== 'ERR_STREAM_PREMATURE_CLOSE') this.deps.logger.warn({ err, jobId: id }, 'content stream failed');
    });
  }
}
