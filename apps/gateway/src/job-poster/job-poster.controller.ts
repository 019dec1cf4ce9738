import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { CurrentUser, JobTokenAccepted } from '../auth/current-user';
import { JobReader } from '../jobs/job-reader';
import { PosterMaker } from './poster-maker';
import { servePoster } from './serve-poster';

@Controller('v1/jobs')
export class JobPosterController {
  constructor(
    private readonly jobs: JobReader,
    private readonly posters: PosterMaker,
  ) {}

  /** A still of the job's video, for lists and a player's `poster`. */
  @Get(':id/poster')
  @JobTokenAccepted()
  async poster(@CurrentUser() userId: string, @Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const { state } = await this.jobs.loadOwned(id, userId);
    await servePoster(this.posters, id, state, req, res);
  }
}
