import { scrapeRead, type Metrics } from '@reelay/service-kit';
import { Counter, Gauge, Histogram } from 'prom-client';

/** Polling's own series, on the service registry, next to the shared ones (providerCalls, jobTransitions...). */
export function createPollingMetrics(metrics: Metrics, scheduleSize: () => Promise<number>) {
  const registers = [metrics.registry];
  return {
    shared: metrics,
    checkSeconds: new Histogram({
      name: 'reelay_poll_check_seconds',
      help: 'One scheduled check of a job, provider call and any output copy included',
      labelNames: ['provider', 'outcome'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
      registers,
    }),
    checkErrors: new Counter({ name: 'reelay_poll_check_errors_total', help: 'Checks that could not be made', labelNames: ['provider', 'kind'], registers }),
    unrecognizedStatuses: new Counter({
      name: 'reelay_provider_unrecognized_status_total',
      help: 'Checks answered with a status word the adapter does not know (the task is taken as running); the word is in the log',
      labelNames: ['provider'],
      registers,
    }),
    canceledTasksEnded: new Counter({
      name: 'reelay_poll_canceled_tasks_ended_total',
      help: 'Provider tasks of canceled jobs seen to end (reason: canceled_at_provider, finished_at_provider, deadline_passed); each frees a capacity slot',
      labelNames: ['provider', 'reason'],
      registers,
    }),
    outputsDeleted: new Counter({
      name: 'reelay_outputs_deleted_total',
      help: 'Output files deleted (reason: retention, user); files of jobs that never succeeded are counted as reason="orphan"',
      labelNames: ['reason'],
      registers,
    }),
    checkLateness: new Histogram({
      name: 'reelay_poll_check_lateness_seconds',
      help: 'How long after its due time a check was claimed',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 15, 60],
      registers,
    }),
    storageSync: new Histogram({
      name: 'reelay_storage_sync_seconds',
      help: 'Durable steps of output copies: one file fsync (target="file"), or a copy waiting for the directory sync that covers its rename (target="directory")',
      labelNames: ['target'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    scheduleSize: new Gauge({
      name: 'reelay_poll_scheduled_jobs',
      help: 'Jobs in the poll schedule',
      registers,
      async collect() {
        this.set((await scrapeRead(scheduleSize)) ?? Number.NaN);
      },
    }),
  };
}
export type PollingMetrics = ReturnType<typeof createPollingMetrics>;
