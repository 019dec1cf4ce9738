import { estimateFor } from './job-estimates';

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
