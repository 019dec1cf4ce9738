/** One durable pull consumer a service reads, shared by all its replicas. */
export interface ConsumerBinding {
  durable: string;
  /** Subjects (wildcards allowed) this consumer receives, e.g. `reelay.events.job.JobSubmitted`. */
  filterSubjects: string[];
  /** Messages processed in parallel by one replica (default 1). */
  concurrency?: number;
  /** Deliveries a failing handler gets before the message is dead-lettered (default 5). */
  maxDeliver?: number;
  /** First redelivery delay after a handler error; doubles per delivery up to `maxNakDelayMs` (default 1000). */
  nakDelayMs?: number;
  maxNakDelayMs?: number;
  /** Server redelivers an unacked message after this; long handlers are kept alive with `working()` (default 30 s). */
  ackWaitMs?: number;
  /**
   * A handler still running after this is taken for hung (default 10 min; noticed at the next
   * keep-alive, every half `ackWaitMs`): it is logged, no longer kept alive, and the message is
   * delivered again after `ackWaitMs`. Its slot stays taken until it
   * returns, so handlers stuck on a stalled dependency do not pile up.
   */
  maxHandlerMs?: number;
  /**
   * Messages the server hands out before their acks (default 1000). A message that waits by a
   * delayed nak stays pending, so a consumer that parks many messages that way needs more.
   */
  maxAckPending?: number;
}

/**
 * `maxDeliver` for handlers whose dead letter would strand a job (left queued, running, or without
 * its terminal notification) until an operator replays it: with the backoff capped at a minute,
 * 200 deliveries ride out a PostgreSQL or NATS outage of over three hours. A dead letter is itself
 * written to PostgreSQL, so a short bound gives up during the very outage it should outlast.
 */
export const OUTAGE_TOLERANT_DELIVERIES = 200;

export type ResolvedBinding = Required<ConsumerBinding>;

export function resolveBinding(b: ConsumerBinding): ResolvedBinding {
  return { concurrency: 1, maxDeliver: 5, nakDelayMs: 1000, maxNakDelayMs: 60_000, ackWaitMs: 30_000, maxHandlerMs: 600_000, maxAckPending: 1000, ...b };
}

/** Exponential backoff on deliveries: nakDelayMs · 2^(delivery-1), capped. */
export function nakDelay(binding: ResolvedBinding, deliveryCount: number): number {
  return Math.min(binding.maxNakDelayMs, binding.nakDelayMs * 2 ** Math.max(0, deliveryCount - 1));
}
