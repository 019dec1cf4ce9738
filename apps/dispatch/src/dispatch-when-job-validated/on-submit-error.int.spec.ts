import { jobStreamId } from '@reelay/contracts';
import { EventStore, handle, loadStreamState, openMigrated } from '@reelay/event-store';
import { decideJob, newJobId, type JobState } from '@reelay/job-domain';
import { createTestDatabase, type TestDatabase } from '@reelay/testing';
import type { DataSource } from 'typeorm';
import type { DispatchJobDeps, Run } from './dispatch-job.deps';
import { onSubmitError } from './on-submit-error';
import { untilRecorded } from './record-answer';
import { dispatchView } from './submission-history';

describe('a refused submit whose record is written but whose reply is lost (real PostgreSQL)', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let store: EventStore;
  const circuitFailures: string[] = [];
  const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

  beforeAll(async () => {
    db = await createTestDatabase('dispatch_refusal');
    dataSource = await openMigrated(db.url, { poolSize: 2 });
    store = new EventStore(dataSource);
  });
  afterAll(async () => {
    await dataSource.destroy();
    await db.drop();
  });

  const deps = () =>
    ({
      store,
      now: () => new Date(),
      logger: silent,
      policy: { rateLimitBudgetMs: 60_000, rateLimitMaxRetries: 3, rateLimitDefaultWaitMs: 1_000, serverMaxRetries: 1, retryBaseMs: 1_000, retryMaxMs: 5_000 },
      circuit: { recordFailure: async (p: string) => void circuitFailures.push(p) },
      // One provider serves the model, so a refusal for good fails the job (no failover).
      adapters: new Map(),
      catalog: { get: () => ({ providers: ['runway'] }), atProvider: () => undefined },
      slots: { forUser: (_user: string, _job: string, take: () => Promise<unknown>) => take(), release: async () => undefined },
      recordRetryDelaysMs: [0, 0],
    }) as unknown as DispatchJobDeps;

  async function jobWithIntent(): Promise<JobState> {
    const jobId = newJobId();
    const at = new Date().toISOString();
    await store.append(jobStreamId(jobId), 0, [
      {
        type: 'JobSubmitted',
        data: { jobId, userId: 'u1', model: 'gen4.5', provider: 'runway', prompt: 'a heron', negativePrompt: null, aspectRatio: '16:9', durationSeconds: 5, resolution: null, seed: null, referenceImage: null, webhookUrl: null, metadata: {}, creditsEstimated: 25, requestHash: 'h', at },
      },
      { type: 'JobValidationStarted', data: { at } },
      { type: 'JobValidated', data: { at, referenceImage: null } },
      { type: 'JobSubmissionIntended', data: { provider: 'runway', attempt: 1, submissionKey: `${jobId}:1`, at } },
    ]);
    return (await loadStreamState(store, jobStreamId(jobId), dispatchView)).state.job;
  }

  /** Appends as dispatch does, then throws once as if the connection dropped before COMMIT's reply came back. */
  function runLosingFirstReply(jobId: string): Run {
    let lost = false;
    return async (command) => {
      const result = await handle(store, jobStreamId(jobId), dispatchView, (view) => decideJob(command(new Date()), view.job));
      if (!lost) {
        lost = true;
        throw new Error('Connection terminated unexpectedly');
      }
      return { events: result.events, state: result.state.job };
    };
  }

  it('records one retry for the one refused try, and answers it as that retry: the job is not failed for a try it never made', async () => {
    const job = await jobWithIntent();
    const d = deps();
    const outcome = await untilRecorded(d, 'the refused submit', {}, () => onSubmitError(d, runLosingFirstReply(job.jobId), job, 'runway', { kind: 'server', detail: '503' }, false));

    const events = await store.readStream(jobStreamId(job.jobId));
    expect(events.map((e) => e.type)).toEqual(['JobSubmitted', 'JobValidationStarted', 'JobValidated', 'JobSubmissionIntended', 'JobSubmissionRetryScheduled']);
    expect(outcome).toMatchObject({ kind: 'later', why: 'retry' });
    expect(circuitFailures).toEqual(['runway']);
  });
});
