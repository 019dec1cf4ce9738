import { Catalog } from './catalog';
import { withProviderModelIds } from './provider-model-ids';

describe('provider model ids from the environment', () => {
  it('replaces the provider model id of the named catalog models, and only those', () => {
    const models = withProviderModelIds({ VEO_MODEL_IDS: 'veo-3.1=veo-3.1-generate-001', FAL_MODEL_IDS: ' wan-2.2 = fal-ai/wan/v2.5/text-to-video , kling-2.1=fal-ai/kling-video/v2.5/standard/text-to-video' });
    const catalog = new Catalog(['veo', 'fal', 'replicate'], models);
    expect(catalog.get('veo-3.1')?.providerModels).toEqual({ veo: 'veo-3.1-generate-001' });
    expect(catalog.get('wan-2.2')?.providerModels).toEqual({ replicate: 'wan-video/wan-2.2-t2v-fast', fal: 'fal-ai/wan/v2.5/text-to-video' });
    expect(catalog.get('kling-2.1')?.providerModels.fal).toBe('fal-ai/kling-video/v2.5/standard/text-to-video');
  });

  it('keeps a Replicate version pin (a colon in the id) whole', () => {
    const [wan] = withProviderModelIds({ REPLICATE_MODEL_IDS: 'wan-2.2=wan-video/wan-2.2-t2v-fast:abc123' }).filter((m) => m.id === 'wan-2.2');
    expect(wan.providerModels.replicate).toBe('wan-video/wan-2.2-t2v-fast:abc123');
  });

  it('refuses what would otherwise fail jobs later: a malformed pair, an unknown model, a provider the model does not list', () => {
    expect(() => withProviderModelIds({ VEO_MODEL_IDS: 'veo-3.1' })).toThrow(/VEO_MODEL_IDS: "veo-3.1" is not <catalog model id>=<veo model id>/);
    expect(() => withProviderModelIds({ VEO_MODEL_IDS: 'veo-9=x' })).toThrow(/no catalog model "veo-9"/);
    expect(() => withProviderModelIds({ LUMA_MODEL_IDS: 'veo-3.1=ray-3' })).toThrow(/veo-3.1 is not served by luma/);
  });

  it('leaves the built-in catalog untouched', () => {
    withProviderModelIds({ VEO_MODEL_IDS: 'veo-3.1=changed' });
    expect(new Catalog(['veo'], undefined, { simulated: ['veo'] }).get('veo-3.1')?.providerModels.veo).toBe('veo-3.1-generate-preview');
  });
});
