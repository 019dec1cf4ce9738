import { DispatchHarness } from './testing/dispatch-harness';

jest.setTimeout(60_000);

const VEO = { model: 'veo-3.1', provider: 'veo', durationSeconds: 8 };

/**
 * Veo takes reference images inline, so dispatch fetches the user's URL itself: under the SSRF
 * guard, since what the URL resolves or redirects to may have changed since intake checked it.
 */
describe('dispatch: reference images for a provider that takes them inline (real processes)', () => {
  const h = new DispatchHarness();
  let allowed: Awaited<ReturnType<DispatchHarness['imageHost']>>;
  let elsewhere: Awaited<ReturnType<DispatchHarness['imageHost']>>;

  beforeAll(async () => {
    await h.start();
    [allowed, elsewhere] = [await h.imageHost(), await h.imageHost()];
    await h.startDispatch({ PROVIDERS_ENABLED: 'veo', OUTBOUND_ALLOW_HOSTS: allowed.host, CIRCUIT_FAILURE_THRESHOLD: '0' });
  });
  afterAll(() => h.close());

  const submitted = async (jobId: string) => (await h.submissions('veo')).filter((s) => s.submissionKey?.startsWith(`${jobId}:`));

  it('fetches an allowed URL and submits the image inline', async () => {
    const jobId = await h.createValidatedJob({ ...VEO, prompt: 'a cat, moving', imageUrl: allowed.url });
    await h.waitForJob(jobId, (j) => j.status === 'running');
    expect(allowed.requests()).toBe(1);
    expect((await submitted(jobId)).map((s) => s.outcome)).toEqual(['accepted']);
  });

  it.each([
    ['a loopback address outside OUTBOUND_ALLOW_HOSTS', () => elsewhere.url],
    ['a private address', () => 'http://10.1.2.3/cat.png'],
    ['cloud metadata', () => 'http://169.254.169.254/latest/meta-data/'],
  ])('refuses %s: the job fails asset_fetch_failed and Veo is never called', async (_name, url) => {
    const jobId = await h.createValidatedJob({ ...VEO, prompt: 'a cat, refused', imageUrl: url() });
    const job = await h.waitForJob(jobId, (j) => j.status === 'failed');
    expect(job.errorCode).toBe('asset_fetch_failed');
    expect(await submitted(jobId)).toEqual([]);
    expect(elsewhere.requests()).toBe(0);
  });
});
