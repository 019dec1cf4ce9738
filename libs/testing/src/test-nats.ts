import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { eventStreamName } from '@reelay/messaging';
import { randomBytes } from 'node:crypto';

// Not NATS_URL: that names the server a service run by hand uses, and `npm test` checks this one.
export const TEST_NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

/** A unique subject/stream prefix so concurrent suites on the shared NATS server never see each other. */
export function uniqueNatsPrefix(label = 't'): string {
  return `${label.replace(/[^a-z0-9]/gi, '').toLowerCase()}${randomBytes(4).toString('hex')}`;
}

/** Deletes the JetStream event stream of a test prefix (and with it its consumers). */
export async function deleteNatsPrefix(prefix: string, url = TEST_NATS_URL): Promise<void> {
  const nc = await connect({ servers: url });
  try {
    await (await jetstreamManager(nc)).streams.delete(eventStreamName(prefix)).catch(() => false);
  } finally {
    await nc.close();
  }
}
