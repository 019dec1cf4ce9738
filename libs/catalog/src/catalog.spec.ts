import { Catalog, retiredModelMessage } from './catalog';
import { MODELS } from './models';

const base = { prompt: 'a fox', aspectRatio: '16:9' as const, durationSeconds: 5 };

describe('catalog', () => {
  // Before Sora's shutdown (see RETIREMENTS), so that sora-2 is still offered by a real OpenAI account.
  const catalog = new Catalog(['local', 'replicate', 'fal', 'openai'], MODELS, { now: () => new Date('2026-06-01T00:00:00Z') });

  it('prices every model in whole credits per second, so every estimate and charge is a whole number of credits', () => {
    // The credit ledger holds and settles whole credits: a fractional price would make a hold its balance cannot match.
    for (const m of MODELS) expect({ model: m.id, whole: Number.isSafeInteger(m.creditsPerSecond) && m.creditsPerSecond > 0 }).toEqual({ model: m.id, whole: true });
  });

  it('lists only models whose provider is configured, with alternates', () => {
    const ids = catalog.list().map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(['local-preview', 'wan-2.2', 'sora-2', 'kling-2.1']));
    expect(ids).not.toContain('seedance-1-0-pro');
    expect(catalog.list().find((m) => m.id === 'wan-2.2')).toMatchObject({ provider: 'replicate', alternates: ['fal'] });
  });
  it('a model served only by an unconfigured provider is unknown', () => {
    expect(catalog.unsupportedSettings({ ...base, model: 'seedance-1-0-pro' })).toEqual([{ path: 'model', message: expect.stringMatching(/Unknown model/) }]);
  });
  it('names each unsupported setting', () => {
    const problems = catalog.unsupportedSettings({ ...base, model: 'sora-2', durationSeconds: 5, aspectRatio: '1:1', resolution: '1080p' });
    expect(problems.map((p) => p.path)).toEqual(['durationSeconds', 'aspectRatio', 'resolution']);
  });
  it('refuses a reference image on a text-only model', () => {
    expect(catalog.unsupportedSettings({ ...base, model: 'local-preview', referenceImage: { url: 'https://example.com/a.png' } })).toEqual([
      { path: 'referenceImage', message: 'local-preview does not take a reference image.' },
    ]);
  });
  it('asks for a reference image on an image-only model, and says so in the listing', () => {
    const runway = new Catalog(['runway']);
    expect(runway.unsupportedSettings({ ...base, model: 'gen4-turbo' })).toEqual([
      { path: 'referenceImage', message: 'gen4-turbo makes video from an image only: add a reference image.' },
    ]);
    expect(runway.unsupportedSettings({ ...base, model: 'gen4-turbo', aspectRatio: '1:1', referenceImage: { assetId: 'asset_abcdefgh12345678' } })).toEqual([]);
    expect(runway.unsupportedSettings({ ...base, model: 'gen4.5' })).toEqual([]);
    expect(runway.unsupportedSettings({ ...base, model: 'gen4.5', aspectRatio: '1:1' }).map((p) => p.path)).toEqual(['aspectRatio']);
    expect(runway.list().map((m) => [m.id, m.textToVideo, m.imageToVideo])).toEqual([['gen4.5', true, true], ['gen4-turbo', false, true]]);
  });
  it('holds a prompt to the model\'s own limit, counted as Runway counts (UTF-16 code units), and lists the limit', () => {
    const runway = new Catalog(['runway']);
    expect(runway.unsupportedSettings({ ...base, model: 'gen4.5', prompt: 'a'.repeat(1000) })).toEqual([]);
    expect(runway.unsupportedSettings({ ...base, model: 'gen4.5', prompt: '🦊'.repeat(501) })).toEqual([
      { path: 'prompt', message: 'gen4.5 takes prompts of up to 1000 characters; this one has 1002.' },
    ]);
    expect(runway.list().find((m) => m.id === 'gen4.5')).toMatchObject({ maxPromptLength: 1000 });
    expect(catalog.list().find((m) => m.id === 'sora-2')).not.toHaveProperty('maxPromptLength');
    expect(catalog.unsupportedSettings({ ...base, model: 'kling-2.1', prompt: 'a'.repeat(2501) }).map((p) => p.path)).toEqual(['prompt']);
  });
  it("holds a reference image to what the model's provider takes: Runway fetches https links only, Seedance wants 301-5999 px sides and a shape strictly between 0.4 and 2.5", () => {
    const runway = new Catalog(['runway']);
    expect(runway.unsupportedSettings({ ...base, model: 'gen4.5', referenceImage: { url: 'http://images.example.com/a.png' } })).toEqual([
      { path: 'referenceImage.url', message: 'gen4.5 fetches reference images over HTTPS only.' },
    ]);
    expect(runway.unsupportedSettings({ ...base, model: 'gen4.5', referenceImage: { url: 'https://images.example.com/a.png' } })).toEqual([]);
    expect(runway.unsupportedSettings({ ...base, model: 'gen4.5', referenceImage: { assetId: 'asset_abcdefgh12345678' } })).toEqual([]);

    const seedance = new Catalog(['seedance']);
    expect(seedance.list()[0].referenceImageLimits).toEqual({ minSide: 301, maxSide: 5999, minAspect: 0.4, maxAspect: 2.5 });
    expect(seedance.imageProblem('seedance-1-0-pro', '16:9', 1280, 720)).toBeNull();
    expect(seedance.imageProblem('seedance-1-0-pro', '16:9', 1280, 300)).toBe('seedance-1-0-pro takes reference images of 301 to 5999 pixels on each side; this one is 1280x300.');
    expect(seedance.imageProblem('seedance-1-0-pro', '16:9', 6000, 3000)).toMatch(/301 to 5999 pixels/);
    expect(seedance.imageProblem('seedance-1-0-pro', '16:9', 2000, 400)).toBe('seedance-1-0-pro takes reference images whose width is more than 0.4 and less than 2.5 times their height; this one is 2000x400.');
    // Open bounds, as Ark states them: just inside passes, exactly on one does not.
    expect(seedance.imageProblem('seedance-1-0-pro', '16:9', 4999, 2000)).toBeNull();
    expect(seedance.imageProblem('seedance-1-0-pro', '16:9', 2500, 1000)).toMatch(/less than 2.5/);
    expect(catalog.imageProblem('wan-2.2', '16:9', 8000, 100)).toBeNull();
    expect(catalog.imageProblem('sora-2', '16:9', 8000, 100)).toMatch(/exactly the video's size/);
  });
  it('accepts a supported request and prices it per second', () => {
    expect(catalog.unsupportedSettings({ ...base, model: 'local-preview' })).toEqual([]);
    expect(catalog.price('sora-2', 8)).toBe(80);
  });
});

describe('catalog: models their providers retire', () => {
  const retirements = [
    { provider: 'openai', providerModel: 'sora-2', on: '2026-09-24' },
    { provider: 'replicate', providerModel: 'wan-video/wan-2.2-t2v-fast', on: '2026-10-01' },
  ];
  const at = (iso: string) => new Catalog(['openai', 'replicate', 'fal', 'local'], MODELS, { retirements, now: () => new Date(iso) });

  it('announces the day in the listing while the model is still offered', () => {
    expect(at('2026-09-23T23:59:59Z').list().find((m) => m.id === 'sora-2')).toMatchObject({ retiresOn: '2026-09-24' });
    expect(at('2026-09-23T23:59:59Z').unsupportedSettings({ ...base, model: 'sora-2', durationSeconds: 8 })).toEqual([]);
    expect(at('2026-09-23T23:59:59Z').list().find((m) => m.id === 'local-preview')).not.toHaveProperty('retiresOn');
  });

  it('stops offering it from that day (UTC) on, and tells the submitter why', () => {
    const after = at('2026-09-24T00:00:00Z');
    expect(after.list().map((m) => m.id)).not.toContain('sora-2');
    expect(after.get('sora-2')).toBeUndefined();
    expect(after.retiredOn('sora-2')).toBe('2026-09-24');
    expect(after.retiredModels()).toEqual([{ id: 'sora-2', on: '2026-09-24' }]);
    expect(after.unsupportedSettings({ ...base, model: 'sora-2', durationSeconds: 8 })).toEqual([{ path: 'model', message: retiredModelMessage('sora-2', '2026-09-24') }]);
    expect(retiredModelMessage('sora-2', '2026-09-24')).toBe('sora-2 is no longer available: its provider stopped serving it on 2026-09-24. Choose another model (GET /v1/models).');
    // A model never offered is still just unknown.
    expect(after.retiredOn('no-such-model')).toBeNull();
  });

  it("names a provider's model id whether or not it is retired, and says since when it is", () => {
    expect(at('2026-09-23T12:00:00Z').atProvider('sora-2', 'openai')).toEqual({ providerModel: 'sora-2', retiredOn: null });
    expect(at('2026-09-24T12:00:00Z').atProvider('sora-2', 'openai')).toEqual({ providerModel: 'sora-2', retiredOn: '2026-09-24' });
    expect(at('2026-09-24T12:00:00Z').atProvider('sora-2', 'fal')).toBeNull();
  });

  it('keeps a model that another provider still serves, without announcing a day, and drops only the retired provider', () => {
    const before = at('2026-09-30T00:00:00Z');
    expect(before.list().find((m) => m.id === 'wan-2.2')).not.toHaveProperty('retiresOn');
    const after = at('2026-10-01T00:00:00Z');
    expect(after.get('wan-2.2')?.providers).toEqual(['fal']);
    expect(after.list().find((m) => m.id === 'wan-2.2')).toMatchObject({ provider: 'fal', alternates: [] });
    expect(after.retiredOn('wan-2.2')).toBeNull();
  });

  it('follows an operator who points the model at a newer id, and leaves simulated providers alone', () => {
    const renamed = MODELS.map((m) => (m.id === 'sora-2' ? { ...m, providerModels: { openai: 'sora-3' } } : m));
    expect(new Catalog(['openai'], renamed, { retirements, now: () => new Date('2026-12-01T00:00:00Z') }).get('sora-2')?.providerModels.openai).toBe('sora-3');
    expect(new Catalog(['openai'], MODELS, { retirements, simulated: ['openai'], now: () => new Date('2026-12-01T00:00:00Z') }).get('sora-2')).toBeDefined();
  });
});
