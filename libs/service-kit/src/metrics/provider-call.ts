import { SpanKind } from '@opentelemetry/api';
import { withSpan } from '../tracing/tracing';
import type { Metrics } from './registry';

/**
 * One call to a provider's API in a client span, timed in `reelay_provider_call_seconds` by its
 * outcome; a failure is also counted in `reelay_provider_errors_total` under `kindOf(err)`. A call
 * that answers its failures instead of throwing them names its outcome with `outcomeOf`.
 */
export function timedProviderCall<T>(
  metrics: Pick<Metrics, 'providerCalls' | 'providerErrors'>,
  provider: string,
  operation: string,
  kindOf: (err: unknown) => string,
  call: () => Promise<T>,
  outcomeOf: (out: T) => string = () => 'ok',
): Promise<T> {
  const end = metrics.providerCalls.startTimer({ provider, operation });
  return withSpan(`${provider} ${operation}`, { kind: SpanKind.CLIENT, attributes: { 'reelay.provider': provider, 'reelay.provider.operation': operation } }, async () => {
    try {
      const out = await call();
      end({ outcome: outcomeOf(out) });
      return out;
    } catch (err) {
      const kind = kindOf(err);
      end({ outcome: kind });
      metrics.providerErrors.inc({ provider, kind });
      throw err;
    }
  });
}
