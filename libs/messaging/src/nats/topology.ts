import { DiscardPolicy, jetstreamManager, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig, type StreamInfo } from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import { ensureConsumer, type ConsumerSpec, type EnsuredConsumer } from './durable-consumers';
import { hasApiCode, STREAM_NAME_IN_USE, streamInfo } from './jetstream-api';
import { eventStreamName, eventSubjects } from './subjects';

export interface TopologyOptions {
  /** Stream replicas (R3 in a 3-node cluster, 1 on a single server). */
  replicas?: number;
  /**
   * JetStream drops a re-published `Nats-Msg-Id` seen within this window. It must exceed the longest
   * time between a relay publishing an event and saving the checkpoint that covers it (plus a restart).
   */
  duplicateWindowMs?: number;
  /** How long the stream keeps an event (default DEFAULT_MAX_AGE_MS); the log in PostgreSQL stays the source of truth. */
  maxAgeMs?: number;
  consumers?: ConsumerSpec[];
}

export interface Topology {
  jsm: JetStreamManager;
  stream: StreamInfo;
  consumers: Map<string, EnsuredConsumer>;
}

export const DEFAULT_DUPLICATE_WINDOW_MS = 2 * 60_000;

/**
 * Seven days. Without a limit the stream grows with every event ever written until the server's
 * store is full, and then refuses every publish: the relay stalls and so does every job. Consumers
 * read events within seconds (and ride out outages of hours), and the log keeps every event for good.
 */
export const DEFAULT_MAX_AGE_MS = 7 * 24 * 3_600_000;

/**
 * Creates the events stream and the given durable consumers if missing. Safe to call from many
 * replicas at once: an identical create is accepted by the server, a lost race is read back.
 */
export async function ensureTopology(nc: NatsConnection, prefix: string, opts: TopologyOptions = {}): Promise<Topology> {
  const jsm = await jetstreamManager(nc);
  const stream = await ensureEventStream(jsm, prefix, opts);
  const consumers = new Map<string, EnsuredConsumer>();
  for (const spec of opts.consumers ?? []) consumers.set(spec.durable, await ensureConsumer(jsm, spec));
  return { jsm, stream, consumers };
}

export async function ensureEventStream(jsm: JetStreamManager, prefix: string, opts: TopologyOptions = {}): Promise<StreamInfo> {
  const name = eventStreamName(prefix);
  const config: Partial<StreamConfig> & { name: string } = {
    name,
    subjects: [eventSubjects(prefix)],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    duplicate_window: nanos(opts.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS),
    max_age: nanos(opts.maxAgeMs ?? DEFAULT_MAX_AGE_MS),
    num_replicas: opts.replicas ?? 1,
  };
  const existing = await streamInfo(jsm, name);
  if (existing) return reconcileStream(jsm, existing, config);
  try {
    return await jsm.streams.add(config);
  } catch (err) {
    if (!hasApiCode(err, STREAM_NAME_IN_USE)) throw err;
    // Another replica created it first, maybe with other settings: read it back and reconcile.
    const raced = await streamInfo(jsm, name);
    if (!raced) throw err;
    return reconcileStream(jsm, raced, config);
  }
}

/**
 * Brings an existing stream to what this release wants: its subjects, the duplicate window, and at
 * least the replicas asked for (NATS_REPLICAS), so a stream first created as R1 is raised when a
 * cluster asks for R3 instead of staying R1 without a word. Replicas are never lowered here: that
 * is an operator's decision. A stream kept without an age limit (made by an earlier release) gets
 * one; an age an operator set is left as it is.
 */
async function reconcileStream(jsm: JetStreamManager, info: StreamInfo, want: Partial<StreamConfig> & { name: string }): Promise<StreamInfo> {
  const subjects = info.config.subjects ?? [];
  const missing = (want.subjects ?? []).filter((s) => !subjects.includes(s));
  const replicas = Math.max(info.config.num_replicas ?? 1, want.num_replicas ?? 1);
  const maxAge = info.config.max_age ? info.config.max_age : (want.max_age ?? 0);
  const same = missing.length === 0 && info.config.duplicate_window === want.duplicate_window && replicas === info.config.num_replicas && maxAge === info.config.max_age;
  if (same) return info;
  return jsm.streams.update(want.name, {
    ...info.config,
    subjects: [...subjects, ...missing],
    duplicate_window: want.duplicate_window,
    num_replicas: replicas,
    max_age: maxAge,
  });
}
