import { scrapeRead, type Metrics } from '@reelay/service-kit';
import { Gauge } from 'prom-client';
import type { ProviderCircuit } from './provider-circuit';

/**
 * `reelay_provider_circuit_open{provider}`: 1 while a provider's circuit is open (new jobs go to
 * another provider of their model, or wait), 0 otherwise; read from the shared table at scrape.
 */
export function circuitOpenGauge(metrics: Metrics, circuit: Pick<ProviderCircuit, 'openProviders'>, providers: readonly string[]): Gauge {
  return new Gauge({
    name: 'reelay_provider_circuit_open',
    help: "1 while the provider's circuit is open (jobs fail over or wait), else 0",
    labelNames: ['provider'],
    registers: [metrics.registry],
    async collect() {
      const listed = await scrapeRead(() => circuit.openProviders());
      // The database did not answer in time: keep the last values rather than report every circuit closed.
      if (!listed) return;
      const open = new Set(listed);
      for (const provider of providers) this.set({ provider }, open.has(provider) ? 1 : 0);
    },
  });
}
