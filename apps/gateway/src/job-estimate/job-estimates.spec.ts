import type { Job } from '@reelay/contracts';
import { createLogger } from '@reelay/service-kit';
import type { DataSource } from 'typeorm';
import { estimateFor, JobEstimates, NO_HISTORY_TTL_MS, STATS_TTL_MS } from './job-estimates';

describe('estimateFor', () => {
  const times = { p50Ms: 105_000, p90Ms: 141_000, jobs: 10 };
  const createdAt = '2026-12-05T12:00:00.000Z';

  it('adds the model’s usual finish times to when the job was submitted', () => {
    expect(estimateFor({ status: 'running', createdAt }, times)).toEqual({ readyByP50: '2026-12-05T12:01:45.000Z', readyByP90: '2026-12-05T12:02:21.000Z', basedOnJobs: 10 });
  });
  it('gives none for a finished job or without history', () => {
    for (const status of ['succeeded', 'failed', 'canceled'] as const) expect(estimateFor({ status, createdAt }, times)).toBeUndefined();
    expect(estimateFor({ status: 'queued', createdAt }, null)).toBeUndefined();
  });
});

describe('JobEstimates', () => {
  const job = { status: 'running', model: 'gen4.5', createdAt: '2026-12-05T12:00:00.000Z' } as Job;
  const history = (n: number) => [{ p50: 60_000, p90: 90_000, n }];

  it('reads a model\'s history again after a minute, and after a few seconds while there is too little of it', async () => {
    const query = jest.fn();
    const estimates = new JobEstimates({ dataSource: { query } as unknown as DataSource, logger: createLogger('gateway', 'silent') });
    let clock = 0;
    estimates.now = () => clock;

    query.mockResolvedValueOnce(history(4));
    expect((await estimates.withEstimate(job)).estimate).toBeUndefined();
    clock += NO_HISTORY_TTL_MS - 1;
    expect((await estimates.withEstimate(job)).estimate).toBeUndefined();
    expect(query).toHaveBeenCalledTimes(1);

    clock += 1;
    query.mockResolvedValueOnce(history(5));
    expect((await estimates.withEstimate(job)).estimate).toMatchObject({ basedOnJobs: 5 });
    clock += STATS_TTL_MS - 1;
    query.mockResolvedValueOnce(history(6));
    expect((await estimates.withEstimate(job)).estimate).toMatchObject({ basedOnJobs: 5 });
    clock += 1;
    expect((await estimates.withEstimate(job)).estimate).toMatchObject({ basedOnJobs: 6 });
    expect(query).toHaveBeenCalledTimes(3);
  });
});
