import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { sendSoon } from '../nats/send-soon';

/**
 * Live pushes over core NATS (at most once, not persisted), e.g. status changes for connected
 * clients. Use `liveJobSubject()` of @reelay/contracts so they stay outside the events stream's subjects.
 */
export function publishLive(nc: NatsConnection, subject: string, payload: unknown): Promise<void> {
  const data = JSON.stringify(payload);
  return sendSoon(() => {
    // At most once: a push lost to a closing connection is one a subscriber that just left would miss.
    if (!nc.isClosed() && !nc.isDraining()) nc.publish(subject, data);
  });
}

export function subscribeLive<T = unknown>(nc: NatsConnection, subject: string, onMessage: (payload: T, subject: string) => void): Subscription {
  return nc.subscribe(subject, {
    callback: (err, msg) => {
      if (err) return;
      let payload: T;
      try {
        payload = msg.json<T>();
      } catch {
        return; // not ours: live pushes are JSON
      }
      onMessage(payload, msg.subject);
    },
  });
}
