import { Catalog, MODELS } from '@reelay/catalog';
import type { GatewayDeps } from '../gateway-deps';
import { ModelsController } from './models.controller';

describe('GET /v1/models', () => {
  const providers = [...new Set(MODELS.flatMap((m) => m.providers))];
  const catalog = new Catalog(providers, MODELS, { simulated: providers });
  const { data } = new ModelsController({ catalog } as unknown as GatewayDeps).list();

  it('given models that take shorter prompts than the API, then each says its maxPromptLength', () => {
    const limited = MODELS.filter((m) => m.maxPromptLength !== undefined).map((m) => [m.id, m.maxPromptLength]);
    expect(limited.length).toBeGreaterThan(0);
    expect(data.filter((m) => m.maxPromptLength !== undefined).map((m) => [m.id, m.maxPromptLength])).toEqual(limited);
  });

  it('leaves out the failover alternates, an internal detail', () => {
    expect(data.length).toBe(MODELS.length);
    expect(data.some((m) => 'alternates' in m)).toBe(false);
  });
});
