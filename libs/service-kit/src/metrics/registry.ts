import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** One Prometheus registry per process, with the default Node metrics and reelay's own. */
export function createMetrics(service: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    // Counted where every job event is seen in order (notification), so each change counts once.
    jobTransitions: new Counter({ name: 'reelay_job_transitions_total', help: 'Job status changes, by the status entered', labelNames: ['status'], registers: [registry] }),
    statusDuration: new Histogram({
      name: 'reelay_job_status_seconds',
      help: 'Time a job spent in a status before leaving it',
      labelNames: ['status'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 120, 300, 600, 1800],
      registers: [registry],
    }),
    providerCalls: new Histogram({
      name: 'reelay_provider_call_seconds',
      help: 'Provider API call latency',
      labelNames: ['provider', 'operation', 'outcome'],
      // An output download (fetch_output) may take minutes.
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 180],
      registers: [registry],
    }),
    providerErrors: new Counter({ name: 'reelay_provider_errors_total', help: 'Provider errors by error code', labelNames: ['provider', 'kind'], registers: [registry] }),
    messagesHandled: new Counter({ name: 'reelay_messages_handled_total', help: 'Bus messages handled', labelNames: ['consumer', 'outcome'], registers: [registry] }),
    handlersOverdue: new Counter({ name: 'reelay_handlers_overdue_total', help: 'Handlers still running past their consumer\'s maximum handler time', labelNames: ['consumer'], registers: [registry] }),
    eventFieldsIgnored: new Counter({
      name: 'reelay_event_fields_ignored_total',
      help: 'Events delivered with data fields this release does not know (written by a newer release; dropped), by event type: a rollout not yet done',
      labelNames: ['type'],
      registers: [registry],
    }),
    deadLetters: new Counter({ name: 'reelay_dead_letters_total', help: 'Messages moved to the dead-letter record', labelNames: ['consumer'], registers: [registry] }),
    consumerLag: new Gauge({ name: 'reelay_consumer_pending', help: 'Messages waiting for a consumer', labelNames: ['consumer'], registers: [registry] }),
    inFlight: new Gauge({ name: 'reelay_provider_in_flight', help: 'Jobs in flight at each provider', labelNames: ['provider'], registers: [registry] }),
    httpRequests: new Histogram({
      name: 'reelay_http_request_seconds',
      help: 'HTTP requests served, by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
