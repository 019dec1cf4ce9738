import { ADAPTER_FACTORIES } from '../adapter-registry';
import { adapterConfigFromEnv, createAdapters, providerEnvErrors, simulatedProviders } from './create-adapters';

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

  it('sends a provider with its own key to its real API even beside a simulator, and the others to the simulator', () => {
    const env = { PROVIDER_SIM_URL: 'http://127.0.0.1:4010', PROVIDERS_ENABLED: 'luma,openai', OPENAI_API_KEY: 'sk-real' };
    expect(adapterConfigFromEnv(factory('openai'), env)).toEqual({ apiKey: 'sk-real' });
    expect(adapterConfigFromEnv(factory('luma'), env)).toEqual({ apiKey: 'sim-key', baseUrl: 'http://127.0.0.1:4010/luma/dream-machine/v1' });
    expect(adapterConfigFromEnv(factory('openai'), { ...env, OPENAI_BASE_URL: 'https://proxy.example.com/v1' })).toEqual({ apiKey: 'sk-real', baseUrl: 'https://proxy.example.com/v1' });
  });

  it('needs Kling\'s secret key beside its access key (it signs the API tokens), except against the simulator', () => {
    expect(() => createAdapters({ KLING_API_KEY: 'ak-real', PROVIDERS_ENABLED: 'kling' })).toThrow(/KLING_SECRET_KEY is required/);
    expect(createAdapters({ KLING_API_KEY: 'ak-real', KLING_SECRET_KEY: 'sk-real', PROVIDERS_ENABLED: 'kling' }).has('kling')).toBe(true);
    expect(createAdapters({ PROVIDER_SIM_URL: 'http://127.0.0.1:4010', PROVIDERS_ENABLED: 'kling' }).has('kling')).toBe(true);
  });

  it('stops on a misspelt provider name or a timeout that is not a number, naming the variable, instead of ignoring it', () => {
    expect(() => createAdapters({ PROVIDER_SIM_URL: 'http://127.0.0.1:4010', PROVIDERS_ENABLED: 'local,runwya' })).toThrow(/PROVIDERS_ENABLED: "runwya" is not a provider \(known: seedance, .*local\)/);
    expect(providerEnvErrors({ RUNWAY_TIMEOUT_MS: '30s', LUMA_TIMEOUT_MS: '0', SEEDANCE_TIMEOUT_MS: '45000', OPENAI_TIMEOUT_MS: '' })).toEqual([
      'RUNWAY_TIMEOUT_MS: "30s" is not a whole number of milliseconds above 0',
      'LUMA_TIMEOUT_MS: "0" is not a whole number of milliseconds above 0',
    ]);
  });

  it('says which providers go to the simulator for want of a key of their own', () => {
    const env = { PROVIDER_SIM_URL: 'http://provider-sim:4010', PROVIDERS_ENABLED: 'local,runway,openai,luma', OPENAI_API_KEY: 'sk-real', LUMA_BASE_URL: 'https://luma.internal/v1' };
    expect(simulatedProviders(env)).toEqual(['runway']);
    expect(simulatedProviders({ ...env, PROVIDER_SIM_URL: undefined })).toEqual([]);
  });
});

const factory = (name: string) => ADAPTER_FACTORIES.find((f) => f.name === name)!;
