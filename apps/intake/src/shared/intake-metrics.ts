import type { Metrics } from '@reelay/service-kit';
import { Counter, Histogram } from 'prom-client';

/** How a fit of a reference image to its model went (see fit-reference-image). */
export type ImageFitOutcome = 'fitted' | 'unreadable' | 'too_large' | 'over_bytes';

/** Intake's own figures, beside every service's: reference images fitted, jobs canceled at their deadline. */
export function createIntakeMetrics(metrics: Metrics) {
  const registers = [metrics.registry];
  return {
    imageFits: new Counter({
      name: 'reelay_reference_image_fits_total',
      help: 'Reference images changed to suit their model, by outcome (fitted; unreadable: ffmpeg could not read it or timed out; too_large: over the pixels a fit may take; over_bytes: the copy over ASSET_MAX_BYTES)',
      labelNames: ['outcome'],
      registers,
    }),
    imageFitSeconds: new Histogram({
      name: 'reelay_reference_image_fit_seconds',
      help: 'Time to fit a reference image, the wait for a turn included',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    deadlineCancels: new Counter({ name: 'reelay_deadline_cancels_total', help: 'Jobs canceled because they were not finished by their deadline (cancelAfterSeconds)', registers }),
    deadlineFailures: new Counter({
      name: 'reelay_deadline_cancel_failures_total',
      help: 'Cancels at a deadline that failed and are tried again next round (an event this release cannot read, say): a rising count means a deadline is not kept',
      registers,
    }),
  };
}
export type IntakeMetrics = ReturnType<typeof createIntakeMetrics>;
