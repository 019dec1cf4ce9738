import { ConfigError, loadConfig } from '@reelay/service-kit';
import { PollingConfig, schedulePolicies } from './config';

describe('polling config', () => {
  it('defaults to checks at 5, 10, 15, 30, 60 s, 1 min delayed cadence and a 30 min deadline', () => {
    const config = loadConfig(PollingConfig, {});
    expect(schedulePolicies(config, ['seedance'], {})('seedance')).toEqual({ offsetsMs: [5000, 10000, 15000, 30000, 60000], delayedIntervalMs: 60000, deadlineMs: 1800000, errorRetryMs: 5000 });
  });

  it('takes an empty per-provider override as unset, as every other variable', () => {
    const config = loadConfig(PollingConfig, {});
    expect(schedulePolicies(config, ['runway'], { POLL_DEADLINE_MS_RUNWAY: '', POLL_SCHEDULE_MS_RUNWAY: '' })('runway')).toEqual(schedulePolicies(config, ['runway'], {})('runway'));
  });

  it('takes per-provider overrides', () => {
    const env = { POLL_SCHEDULE_MS: '10,20', POLL_DEADLINE_MS_RUNWAY: '3600000', POLL_SCHEDULE_MS_RUNWAY: '1000, 2000,3000' };
    const policyFor = schedulePolicies(loadConfig(PollingConfig, env), ['runway', 'luma'], env);
    expect(policyFor('runway')).toMatchObject({ offsetsMs: [1000, 2000, 3000], deadlineMs: 3600000 });
    expect(policyFor('luma')).toMatchObject({ offsetsMs: [10, 20], deadlineMs: 1800000 });
  });

  it('names the variable of a bad value', () => {
    expect(() => loadConfig(PollingConfig, { POLL_SCHEDULE_MS: '10,5' })).toThrow(/POLL_SCHEDULE_MS.*increasing/);
    expect(() => schedulePolicies(loadConfig(PollingConfig, {}), ['luma'], { POLL_DEADLINE_MS_LUMA: 'soon' })).toThrow(ConfigError);
    expect(() => schedulePolicies(loadConfig(PollingConfig, {}), ['luma'], { POLL_DEADLINE_MS_LUMA: 'soon' })).toThrow(/POLL_DEADLINE_MS_LUMA/);
  });
});
