import { Controller, Get, Param } from '@nestjs/common';
import { CurrentUser } from '../auth/current-user';
import { JobReader } from '../jobs/job-reader';
import { toHistory, type HistoryEntry } from './history-entry';

@Controller('v1/jobs')
export class JobEventsController {
  constructor(private readonly jobs: JobReader) {}

  @Get(':id/events')
  async events(@CurrentUser() userId: string, @Param('id') id: string): Promise<{ data: HistoryEntry[] }> {
    const { events } = await this.jobs.loadOwned(id, userId);
    return { data: toHistory(events) };
  }
}
