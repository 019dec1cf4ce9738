import { Controller, Get, Inject, Param, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { CurrentUser, JobTokenAccepted } from '../auth/current-user';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';
import { JobReader } from '../jobs/job-reader';
import { serveOutput } from './serve-output';

@Controller('v1/jobs')
export class JobContentController {
  constructor(
    @Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps,
    private readonly jobs: JobReader,
  ) {}

  @Get(':id/content')
  @JobTokenAccepted()
  async content(@CurrentUser() userId: string, @Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const { state } = await this.jobs.loadOwned(id, userId);
    await serveOutput(this.deps, id, state, req, res);
  }
}
