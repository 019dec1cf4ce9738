import type { Metrics } from '@reelay/service-kit';
import { Counter, Histogram } from 'prom-client';

export const POSTER_METRICS = Symbol('POSTER_METRICS');

/** How poster requests went: a still read back, made now, or why none could be answered. */
export type PosterOutcome = 'kept' | 'made' | 'unreadable' | 'busy' | 'unavailable' | 'deleted' | 'abandoned';

export function createPosterMetrics(metrics: Metrics) {
  const registers = [metrics.registry];
  return {
    posters: new Counter({ name: 'reelay_posters_total', help: 'Posters served from storage (kept), requests not answered within POSTER_TIMEOUT_MS (busy), and poster runs by outcome (made, unreadable, unavailable, deleted; busy: past 5 minutes; abandoned: given up before its turn, nobody waiting); requests that come together share a run', labelNames: ['outcome'], registers }),
    posterSeconds: new Histogram({
      name: 'reelay_poster_make_seconds',
      help: 'Time to make a poster, the wait for a turn included',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 60, 300],
      registers,
    }),
  };
}
export type PosterMetrics = ReturnType<typeof createPosterMetrics>;
