import { CAPACITY_WAIT_CEILING_MS, DispatchConfig, maxInFlightFor, maxSubmitsPerMinuteFor, perProviderLimitErrors } from './config';

describe('per-provider limits', () => {
  const providers = ['seedance', 'runway', 'luma'];

  it('takes a count for a known provider, else the default (in flight) or no cap (submits per minute)', () => {
    const env = { PROVIDER_MAX_IN_FLIGHT_RUNWAY: '3', PROVIDER_MAX_IN_FLIGHT_LUMA: '0', PROVIDER_MAX_SUBMITS_PER_MINUTE_RUNWAY: '60' };
    expect(perProviderLimitErrors(env, providers)).toEqual([]);
    expect([maxInFlightFor('runway', env, 50), maxInFlightFor('luma', env, 50), maxInFlightFor('seedance', env, 50)]).toEqual([3, 0, 50]);
    expect([maxSubmitsPerMinuteFor('runway', env), maxSubmitsPerMinuteFor('luma', env)]).toEqual([60, 0]);
  });

  it('names a limit for a provider that does not exist, or one that is not a whole number, instead of ignoring it', () => {
    const env = {
      PROVIDER_MAX_IN_FLIGHT_RUNWAYML: '3', PROVIDER_MAX_IN_FLIGHT_LUMA: 'ten', PROVIDER_MAX_IN_FLIGHT_SEEDANCE: '2.5', PROVIDER_MAX_IN_FLIGHT_DEFAULT: '20',
      PROVIDER_MAX_SUBMITS_PER_MINUTE_KLING: '10', PROVIDER_MAX_SUBMITS_PER_MINUTE_LUMA: '-1', PROVIDER_MAX_SUBMITS_PER_MINUTE_DEFAULT: '60',
    };
    expect(perProviderLimitErrors(env, providers)).toEqual([
      'PROVIDER_MAX_IN_FLIGHT_RUNWAYML: no provider of that name (known: seedance, runway, luma)',
      'PROVIDER_MAX_IN_FLIGHT_LUMA: "ten" is not a whole number of jobs',
      'PROVIDER_MAX_IN_FLIGHT_SEEDANCE: "2.5" is not a whole number of jobs',
      'PROVIDER_MAX_SUBMITS_PER_MINUTE_KLING: no provider of that name (known: seedance, runway, luma)',
      'PROVIDER_MAX_SUBMITS_PER_MINUTE_LUMA: "-1" is not a whole number of submits',
      'PROVIDER_MAX_SUBMITS_PER_MINUTE_DEFAULT: no provider of that name (known: seedance, runway, luma)',
    ]);
  });
});

describe('DISPATCH_CAPACITY_WAIT_MAX_MS', () => {
  const wait = DispatchConfig.shape.DISPATCH_CAPACITY_WAIT_MAX_MS;

  it('given nothing or 0, then a job waits 6 days at most: the bus drops an event after 7, and the job would be stranded', () => {
    expect(CAPACITY_WAIT_CEILING_MS).toBe(6 * 24 * 3_600_000);
    expect([wait.parse(undefined), wait.parse('0'), wait.parse('1500')]).toEqual([CAPACITY_WAIT_CEILING_MS, CAPACITY_WAIT_CEILING_MS, 1500]);
  });

  it('given more than 6 days, then the setting is refused, saying why', () => {
    const refused = wait.safeParse(String(7 * 24 * 3_600_000));
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]?.message).toMatch(/at most 518400000 \(6 days\): the bus keeps an event 7 days/);
  });
});
