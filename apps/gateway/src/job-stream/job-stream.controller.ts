import { Controller, Get, Inject, Param, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { CurrentUser } from '../auth/current-user';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';
import { JobReader } from '../jobs/job-reader';
import { JobStreamRegistry } from './job-stream-registry';
import { JobStreamSession } from './job-stream-session';
import { parseLastEventId, retryHint } from './sse-format';

@Controller('v1/jobs')
export class JobStreamController {
  constructor(
    @Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps,
    private readonly jobs: JobReader,
    private readonly registry: JobStreamRegistry,
  ) {}

  @Get(':id/stream')
  async stream(@CurrentUser() userId: string, @Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    await this.jobs.loadOwned(id, userId); // 404 before any stream starts
    const { config, store, nc, logger } = this.deps;
    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    res.write(retryHint(2000));

    const session = new JobStreamSession({
      jobId: id,
      after: parseLastEventId(req.headers['last-event-id']),
      store,
      nc,
      prefix: config.NATS_PREFIX,
      recheckMs: config.SSE_RECHECK_MS,
      heartbeatMs: config.SSE_HEARTBEAT_MS,
      logger,
      write: (chunk) => res.write(chunk),
      end: () => res.end(),
    });
    const forget = this.registry.add(session);
    res.on('close', () => {
      session.close(false);
      forget();
    });
    session.start();
  }
}
