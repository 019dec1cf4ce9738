import { z } from 'zod';
import { BaseConfig, ConfigError, countVar, csvVar, loadConfig, msVar } from './load-config';

describe('config variable helpers', () => {
  const Schema = z.object({ WAIT_MS: msVar(250), SWEEP_MS: msVar(1000, { allowZero: true }), RETRIES: countVar(3), HOSTS: csvVar() });

  it('applies defaults', () => {
    expect(loadConfig(Schema, {})).toEqual({ WAIT_MS: 250, SWEEP_MS: 1000, RETRIES: 3, HOSTS: [] });
  });

  it('parses values from strings', () => {
    expect(loadConfig(Schema, { WAIT_MS: '5', SWEEP_MS: '0', RETRIES: '0', HOSTS: ' a:1, ,b:2 ' })).toEqual({ WAIT_MS: 5, SWEEP_MS: 0, RETRIES: 0, HOSTS: ['a:1', 'b:2'] });
  });

  it('refuses a zero duration unless allowed, fractions and negative counts, naming the variable', () => {
    expect(() => loadConfig(Schema, { WAIT_MS: '0' })).toThrow(/WAIT_MS/);
    expect(() => loadConfig(Schema, { SWEEP_MS: '1.5' })).toThrow(/SWEEP_MS/);
    expect(() => loadConfig(Schema, { RETRIES: '-1' })).toThrow(ConfigError);
  });
});

describe('loadConfig', () => {
  it('takes an empty variable as unset: its default, not 0 (a port, a limit, a sweep turned off)', () => {
    const Schema = z.object({ WAIT_MS: msVar(250), SWEEP_MS: msVar(1000, { allowZero: true }), RETRIES: countVar(3), NAME: z.string().default('x') });
    expect(loadConfig(Schema, { WAIT_MS: '', SWEEP_MS: '', RETRIES: '', NAME: '' })).toEqual({ WAIT_MS: 250, SWEEP_MS: 1000, RETRIES: 3, NAME: 'x' });
  });

  it('refuses a database pool of one connection: a sweep holds one for its lock and needs another for its work', () => {
    expect(() => loadConfig(BaseConfig, { DB_POOL_SIZE: '1' })).toThrow(/DB_POOL_SIZE/);
    expect(loadConfig(BaseConfig, { DB_POOL_SIZE: '2' }).DB_POOL_SIZE).toBe(2);
  });
});
