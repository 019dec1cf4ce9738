import { foldRecordedJob, newJobId } from '@reelay/job-domain';
import { createLogger } from '@reelay/service-kit';
import type { Request, Response } from 'express';
import type { GatewayDeps } from '../gateway-deps';
import { serveOutput } from './serve-output';
import { videoJobEvents } from './video-job.fixture';

const jobId = newJobId();
const recorded = (n: 6 | 7) => videoJobEvents(jobId, n);

describe('serveOutput', () => {
  it('given a video deleted between reading the job and opening its file, then it answers 410 output_deleted, not 404', async () => {
    const readBefore = foldRecordedJob(recorded(6)).state; // succeeded, not yet deleted
    const deps = {
      storage: { open: async () => null },
      store: { readStream: async () => recorded(7) },
      logger: createLogger('gateway', 'silent'),
    } as unknown as GatewayDeps;
    await expect(serveOutput(deps, jobId, readBefore, {} as Request, {} as Response)).rejects.toMatchObject({ code: 'output_deleted', status: 410 });
  });

  it('given a succeeded job whose file is missing and no deletion, then it answers 404 as before', async () => {
    const deps = {
      storage: { open: async () => null },
      store: { readStream: async () => recorded(6) },
      logger: createLogger('gateway', 'silent'),
    } as unknown as GatewayDeps;
    await expect(serveOutput(deps, jobId, foldRecordedJob(recorded(6)).state, {} as Request, {} as Response)).rejects.toMatchObject({ code: 'not_found' });
  });
});
