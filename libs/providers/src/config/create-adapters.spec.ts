import { createAdapters } from './create-adapters';

describe('createAdapters', () => {
  it('builds only providers with an API key, with default base URLs', () => {
    const adapters = createAdapters({ SEEDANCE_API_KEY: 'k1', RUNWAY_API_KEY: 'k2' });
    expect([...adapters.keys()]).toEqual(expect.arrayContaining(['seedance', 'runway']));
    expect(adapters.has('openai')).toBe(false);
    expect(adapters.has('luma')).toBe(false);
  });

  it('points every provider at provider-sim when PROVIDER_SIM_URL is set, restricted by PROVIDERS_ENABLED', () => {
    const adapters = createAdapters({ PROVIDER_SIM_URL: 'http://127.0.0.1:4010/', PROVIDERS_ENABLED: 'openai,luma' });
    expect([...adapters.keys()].sort()).toEqual(['luma', 'openai']);
  });
});
