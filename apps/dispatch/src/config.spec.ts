import { maxInFlightErrors, maxInFlightFor } from './config';

describe('per-provider in-flight limits', () => {
  const providers = ['seedance', 'runway', 'luma'];

  it('takes a count for a known provider, else the default', () => {
    const env = { PROVIDER_MAX_IN_FLIGHT_RUNWAY: '3', PROVIDER_MAX_IN_FLIGHT_LUMA: '0' };
    expect(maxInFlightErrors(env, providers)).toEqual([]);
    expect([maxInFlightFor('runway', env, 50), maxInFlightFor('luma', env, 50), maxInFlightFor('seedance', env, 50)]).toEqual([3, 0, 50]);
  });

  it('names a limit for a provider that does not exist, or one that is not a whole number, instead of ignoring it', () => {
    const env = { PROVIDER_MAX_IN_FLIGHT_RUNWAYML: '3', PROVIDER_MAX_IN_FLIGHT_LUMA: 'ten', PROVIDER_MAX_IN_FLIGHT_SEEDANCE: '2.5', PROVIDER_MAX_IN_FLIGHT_DEFAULT: '20' };
    expect(maxInFlightErrors(env, providers)).toEqual([
      'PROVIDER_MAX_IN_FLIGHT_RUNWAYML: no provider of that name (known: seedance, runway, luma)',
      'PROVIDER_MAX_IN_FLIGHT_LUMA: "ten" is not a whole number of jobs',
      'PROVIDER_MAX_IN_FLIGHT_SEEDANCE: "2.5" is not a whole number of jobs',
    ]);
  });
});
