import type { Metrics } from '@reelay/service-kit';

export type DispatchMetrics = Pick<Metrics, 'providerCalls' | 'providerErrors' | 'inFlight' | 'jobTransitions'>;
