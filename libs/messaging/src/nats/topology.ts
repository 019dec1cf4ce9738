import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  jetstreamManager,
  JetStreamApiError,
  ReplayPolicy,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type ConsumerInfo,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import { eventStreamName, eventSubjects } from './subjects';

const STREAM_NOT_FOUND = 10059;
const STREAM_NAME_IN_USE = 10058;
const CONSUMER_NOT_FOUND = 10014;
const CONSUMER_NAME_IN_USE = 10148;
const CONSUMER_ALREADY_EXISTS = 10105;

export interface TopologyOptions {
  /** Stream replicas (R3 in a 3-node cluster, 1 on a single server). */
  replicas?: number;
  /**
   * JetStream drops a re-published `Nats-Msg-Id` seen within this window. It must exceed the longest
   * time between a relay publishing an event and saving the checkpoint that covers it (plus a restart).
   */
  duplicateWindowMs?: number;
  /** 0 keeps events until other limits; the log in PostgreSQL stays the source of truth. */
  maxAgeMs?: number;
  consumers?: ConsumerSpec[];
}

export interface ConsumerSpec {
  stream: string;
  durable: string;
  filterSubjects: string[];
  /** Deliveries the server attempts; -1 (default) leaves the bound to the client, which dead-letters. */
  maxDeliver?: number;
  ackWaitMs?: number;
  maxAckPending?: number;
}

export interface Topology {
  jsm: JetStreamManager;
  stream: StreamInfo;
  consumers: Map<string, EnsuredConsumer>;
}

export interface EnsuredConsumer {
  info: ConsumerInfo;
  /** The filters the server applies; wider than requested on servers without `filter_subjects`. */
  serverFilters: string[];
}

export const DEFAULT_DUPLICATE_WINDOW_MS = 2 * 60_000;

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
    max_age: nanos(opts.maxAgeMs ?? 0),
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

async function reconcileStream(jsm: JetStreamManager, info: StreamInfo, want: Partial<StreamConfig> & { name: string }): Promise<StreamInfo> {
  const subjects = info.config.subjects ?? [];
  const missing = (want.subjects ?? []).filter((s) => !subjects.includes(s));
  if (missing.length === 0 && info.config.duplicate_window === want.duplicate_window) return info;
  return jsm.streams.update(want.name, {
    ...info.config,
    subjects: [...subjects, ...missing],
    duplicate_window: want.duplicate_window,
  });
}

export async function ensureConsumer(jsm: JetStreamManager, spec: ConsumerSpec): Promise<EnsuredConsumer> {
  if (spec.filterSubjects.length === 0) throw new Error(`Consumer ${spec.durable} needs at least one filter subject`);
  const serverFilters = spec.filterSubjects.length === 1 || supportsMultipleFilters(jsm) ? spec.filterSubjects : [coveringFilter(spec.filterSubjects)];
  const config: Partial<ConsumerConfig> = {
    durable_name: spec.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    replay_policy: ReplayPolicy.Instant,
    max_deliver: spec.maxDeliver ?? -1,
    ack_wait: nanos(spec.ackWaitMs ?? 30_000),
    max_ack_pending: spec.maxAckPending ?? 1000,
    ...(serverFilters.length === 1 ? { filter_subject: serverFilters[0] } : { filter_subjects: serverFilters }),
  };
  const existing = await consumerInfo(jsm, spec.stream, spec.durable);
  if (existing) return { info: await reconcileConsumer(jsm, spec, existing, config), serverFilters };
  try {
    return { info: await jsm.consumers.add(spec.stream, config), serverFilters };
  } catch (err) {
    if (!hasApiCode(err, CONSUMER_NAME_IN_USE) && !hasApiCode(err, CONSUMER_ALREADY_EXISTS)) throw err;
    const raced = await consumerInfo(jsm, spec.stream, spec.durable);
    if (!raced) throw err;
    return { info: await reconcileConsumer(jsm, spec, raced, config), serverFilters };
  }
}

async function reconcileConsumer(jsm: JetStreamManager, spec: ConsumerSpec, info: ConsumerInfo, want: Partial<ConsumerConfig>): Promise<ConsumerInfo> {
  const have = info.config;
  const same =
    (have.filter_subject ?? '') === (want.filter_subject ?? '') &&
    JSON.stringify(have.filter_subjects ?? []) === JSON.stringify(want.filter_subjects ?? []) &&
    have.max_deliver === want.max_deliver &&
    have.ack_wait === want.ack_wait &&
    have.max_ack_pending === want.max_ack_pending;
  if (same) return info;
  const { durable_name: _durable, ack_policy: _ack, deliver_policy: _deliver, replay_policy: _replay, ...updatable } = want;
  return jsm.consumers.update(spec.stream, spec.durable, updatable);
}

async function streamInfo(jsm: JetStreamManager, name: string): Promise<StreamInfo | null> {
  try {
    return await jsm.streams.info(name);
  } catch (err) {
    if (hasApiCode(err, STREAM_NOT_FOUND)) return null;
    throw err;
  }
}

async function consumerInfo(jsm: JetStreamManager, stream: string, durable: string): Promise<ConsumerInfo | null> {
  try {
    return await jsm.consumers.info(stream, durable);
  } catch (err) {
    if (hasApiCode(err, CONSUMER_NOT_FOUND)) return null;
    throw err;
  }
}

function hasApiCode(err: unknown, code: number): boolean {
  return err instanceof JetStreamApiError && err.code === code;
}

/** `filter_subjects` (several filters per consumer) arrived in nats-server 2.10. */
function supportsMultipleFilters(jsm: JetStreamManager): boolean {
  const version = (jsm as unknown as { nc?: NatsConnection }).nc?.info?.version ?? '0.0.0';
  const [major, minor] = version.split('.').map((n) => Number.parseInt(n, 10));
  return major > 2 || (major === 2 && minor >= 10);
}

/**
 * The narrowest single filter covering several subjects (token-wise common prefix + `>`), used on
 * servers without `filter_subjects`; the transport then acks messages outside the requested set.
 */
export function coveringFilter(subjects: string[]): string {
  const split = subjects.map((s) => s.split('.'));
  const shortest = Math.min(...split.map((t) => (t.at(-1) === '>' ? t.length - 1 : t.length)));
  const common: string[] = [];
  for (let i = 0; i < shortest - 1; i++) {
    const token = split[0][i];
    if (token === '>' || split.some((t) => t[i] !== token)) break;
    common.push(token);
  }
  if (common.length === 0) throw new Error(`Filters ${subjects.join(', ')} share no prefix; use one consumer per filter`);
  return [...common, '>'].join('.');
}
