import { GoogleGenAI } from '@google/genai';
import { startProviderSim, type RunningProviderSim } from '../start-provider-sim';

const MODEL = 'veo-3.1-generate-preview';

describe('@google/genai against the Veo emulation', () => {
  let sim: RunningProviderSim;
  let ai: GoogleGenAI;

  beforeAll(async () => {
    sim = await startProviderSim({ port: 0 });
    // `fetch` only because jest's sandbox hides Node's undici dispatcher, which the SDK looks up on
    // globalThis when no fetch is given; requests and responses are unchanged.
    ai = new GoogleGenAI({ apiKey: 'sdk-test-key', httpOptions: { baseUrl: `${sim.url}/veo`, fetch: (url, init) => fetch(url, init) } });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('generateVideos + operations.getVideosOperation reach a downloadable video', async () => {
    let operation = await ai.models.generateVideos({
      model: MODEL,
      source: { prompt: 'a lighthouse at dusk [sim:success_after=2]' },
      config: { numberOfVideos: 1, durationSeconds: 8, aspectRatio: '16:9', resolution: '720p', negativePrompt: 'text' },
    });
    expect(operation.name).toMatch(new RegExp(`^models/${MODEL}/operations/`));
    expect(operation.done).toBeFalsy();
    for (let i = 0; i < 5 && !operation.done; i++) operation = await ai.operations.getVideosOperation({ operation });
    expect(operation.done).toBe(true);
    const video = operation.response?.generatedVideos?.[0]?.video;
    expect(video?.uri).toContain('/veo/v1beta/files/');
    const res = await fetch(video!.uri!, { headers: { 'x-goog-api-key': 'sdk-test-key' } });
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).subarray(4, 8).toString('latin1')).toBe('ftyp');

    const task = sim.ctx.getTask('veo', operation.name!)!;
    expect(task.request).toMatchObject({ durationSeconds: 8, aspectRatio: '16:9', resolution: '720p', negativePrompt: 'text', sampleCount: 1 });
  });

  it('surfaces RAI filtering as a done operation without videos', async () => {
    let operation = await ai.models.generateVideos({ model: MODEL, source: { prompt: 'x [sim:moderation_after,success_after=1]' } });
    for (let i = 0; i < 3 && !operation.done; i++) operation = await ai.operations.getVideosOperation({ operation });
    expect(operation.response?.raiMediaFilteredCount).toBe(1);
    expect(operation.response?.generatedVideos ?? []).toEqual([]);
  });

  it('surfaces an operation error', async () => {
    let operation = await ai.models.generateVideos({ model: MODEL, source: { prompt: 'x [sim:fail_code=13,success_after=1]' } });
    for (let i = 0; i < 3 && !operation.done; i++) operation = await ai.operations.getVideosOperation({ operation });
    expect(operation.error).toMatchObject({ code: 13 });
  });

  it('throws the SDK error for a Google error envelope', async () => {
    await expect(ai.models.generateVideos({ model: MODEL, source: { prompt: 'x [sim:reject=400]' } })).rejects.toMatchObject({ status: 400 });
  });
});
