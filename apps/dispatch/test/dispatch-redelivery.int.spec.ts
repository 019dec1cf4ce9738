import { DispatchHarness, eventTypes } from './testing/dispatch-harness';

jest.setTimeout(90_000);

/**
 * JobValidated delivered again while its first delivery is still submitting: here because the
 * submit outlasts DISPATCH_MAX_HANDLER_MS (the handler is no longer kept alive, and JetStream
 * redelivers after the ack wait); in production also after a NATS outage longer than the ack wait.
 * Two dispatch replicas share the consumer, so the second delivery may land on either.
 */
describe('dispatch: a job delivered again while its submit is still running', () => {
  const h = new DispatchHarness();
  const env = { PROVIDERS_ENABLED: 'runway', DISPATCH_ACK_WAIT_MS: '1000', DISPATCH_MAX_HANDLER_MS: '1000' };

  beforeAll(() => h.start());
  afterAll(() => h.close());

  it('waits for the first submit instead of taking it for a crashed one: running, one submission, nothing failed', async () => {
    await h.startDispatch(env);
    await h.startDispatch(env);
    // Runway cannot be searched by our key, so a second delivery that saw the unanswered intent
    // would fail the job as of unknown outcome while the first submit succeeds.
    const jobId = await h.createValidatedJob({ model: 'gen4.5', provider: 'runway', prompt: 'a lighthouse in fog [sim:slow=5000]' });

    const job = await h.waitForJob(jobId, (j) => j.status !== 'validating', 30_000);

    expect(job.status).toBe('running');
    expect(h.logs()).toContain('another delivery is submitting this job');
    expect(eventTypes(await h.events(jobId)).slice(3)).toEqual(['JobSubmissionIntended', 'JobProviderAccepted']);
    expect((await h.submissions('runway')).filter((s) => s.submissionKey?.startsWith(`${jobId}:`))).toHaveLength(1);
    // The waiting delivery comes back, finds the job running and is done with it: still one slot.
    await new Promise((r) => setTimeout(r, 8_000));
    expect((await h.job(jobId)).status).toBe('running');
    expect(await h.slots()).toHaveLength(1);
  });
});
