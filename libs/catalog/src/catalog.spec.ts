import { Catalog } from './catalog';

const base = { prompt: 'a fox', aspectRatio: '16:9' as const, durationSeconds: 5 };

describe('catalog', () => {
  const catalog = new Catalog(['local', 'replicate', 'fal', 'openai']);

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
  it('accepts a supported request and prices it per second', () => {
    expect(catalog.unsupportedSettings({ ...base, model: 'local-preview' })).toEqual([]);
    expect(catalog.price('sora-2', 8)).toBe(80);
  });
});
