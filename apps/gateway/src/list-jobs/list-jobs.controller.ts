import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ListJobsQuery, type Job } from '@reelay/contracts';
import { CurrentUser } from '../auth/current-user';
import { invalidRequest } from '../errors/api-exception';
import { parseQuery } from '../http/parse-query';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';
import { decodeCursor, encodeCursor } from '../jobs/job-cursor';
import { queryJobView } from './job-view-query';

@Controller('v1/jobs')
export class ListJobsController {
  constructor(@Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps) {}

  /** From the job_view read model: eventually consistent, a job may appear a moment after submit. */
  @Get()
  async list(@CurrentUser() userId: string, @Query() query: Record<string, unknown>): Promise<{ data: Job[]; nextCursor: string | null }> {
    const { status, metadata, limit, cursor } = parseQuery(ListJobsQuery, query);
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    if (after === null) throw invalidRequest('The cursor is not valid.', [{ path: 'cursor', message: 'use the nextCursor of a previous page' }]);
    const page = await queryJobView(this.deps.dataSource, { userId, status, metadata, limit, after });
    return { data: page.jobs, nextCursor: page.next ? encodeCursor(page.next) : null };
  }
}
