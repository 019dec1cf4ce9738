import type { DispatchMetrics } from '../shared/dispatch-metrics';
import type { ProviderSlots } from './provider-slots';

/**
 * Sets `reelay_provider_in_flight` to the slots in use per provider across every replica (the rows
 * of provider_slots). main.ts runs it on a timer, one GROUP BY every couple of seconds rather than
 * two per job; an acquire sets its own provider's value at once from the count it made under the
 * slot lock, so releases and other replicas' acquires show at the next refresh.
 */
export async function refreshInFlight(deps: { slots: ProviderSlots; metrics: Pick<DispatchMetrics, 'inFlight'> }): Promise<void> {
  const inUse = await deps.slots.inUse();
  // A provider whose slots all freed up reads 0 rather than vanishing from the scrape.
  for (const { labels } of (await deps.metrics.inFlight.get()).values) {
    const provider = String(labels.provider);
    if (!inUse.has(provider)) deps.metrics.inFlight.set({ provider }, 0);
  }
  for (const [provider, n] of inUse) deps.metrics.inFlight.set({ provider }, n);
}
