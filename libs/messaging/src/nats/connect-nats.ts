import { connect, type NatsConnection } from '@nats-io/transport-node';

export type { NatsConnection };

/**
 * A NATS connection named after the service; async stack traces off (they halve publish throughput).
 * A server that stops answering (a half-open connection) is given up after 3 missed pings 10 s
 * apart, not the client's default of 2 at 2 minutes, and reconnected to.
 */
export async function connectNats(url: string | string[], name: string): Promise<NatsConnection> {
  return connect({ servers: url, name, noAsyncTraces: true, maxReconnectAttempts: -1, pingInterval: 10_000, maxPingOut: 3 });
}

/** Healthy = connection not closed and a server round trip completes within the timeout. */
export async function natsHealthy(nc: NatsConnection, timeoutMs = 1000): Promise<boolean> {
  if (nc.isClosed() || nc.isDraining()) return false;
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    return await Promise.race([nc.flush().then(() => true), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
