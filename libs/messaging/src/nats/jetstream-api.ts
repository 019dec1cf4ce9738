import { JetStreamApiError, type ConsumerInfo, type JetStreamManager, type StreamInfo } from '@nats-io/jetstream';

export const STREAM_NOT_FOUND = 10059;
export const STREAM_NAME_IN_USE = 10058;
export const CONSUMER_NOT_FOUND = 10014;

export function hasApiCode(err: unknown, code: number): boolean {
  return err instanceof JetStreamApiError && err.code === code;
}

export async function streamInfo(jsm: JetStreamManager, name: string): Promise<StreamInfo | null> {
  try {
    return await jsm.streams.info(name);
  } catch (err) {
    if (hasApiCode(err, STREAM_NOT_FOUND)) return null;
    throw err;
  }
}

export async function consumerInfo(jsm: JetStreamManager, stream: string, durable: string): Promise<ConsumerInfo | null> {
  try {
    return await jsm.consumers.info(stream, durable);
  } catch (err) {
    if (hasApiCode(err, CONSUMER_NOT_FOUND)) return null;
    throw err;
  }
}

/** Deletes a consumer; one already gone (another replica deleted it) is not an error. */
export async function deleteConsumer(jsm: JetStreamManager, stream: string, durable: string): Promise<void> {
  try {
    await jsm.consumers.delete(stream, durable);
  } catch (err) {
    if (!hasApiCode(err, CONSUMER_NOT_FOUND)) throw err;
  }
}
