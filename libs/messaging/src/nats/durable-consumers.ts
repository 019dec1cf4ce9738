import { AckPolicy, DeliverPolicy, ReplayPolicy, type ConsumerConfig, type ConsumerInfo, type JetStreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { consumerInfo, deleteConsumer } from './jetstream-api';

export interface ConsumerSpec {
  stream: string;
  durable: string;
  filterSubjects: string[];
  /** Deliveries the server attempts; -1 (default) leaves the bound to the client, which dead-letters. */
  maxDeliver?: number;
  ackWaitMs?: number;
  maxAckPending?: number;
  /**
   * Where a consumer that has to be made anew starts: the stream sequence after its predecessor's
   * last known ack floor. Unset, a new consumer starts at the stream's first message (a service's
   * first start, which must see every event the stream still holds).
   */
  resumeAt?: number;
}

export interface EnsuredConsumer {
  /** The durable consumers that serve the spec: its own durable, or one per filter subject (see `splitDurables`). */
  parts: ConsumerInfo[];
}

interface DurableSpec {
  durable: string;
  filters: string[];
}

/**
 * Creates or reconciles the durable consumer(s) of a spec. A spec with several filter subjects is
 * one consumer per subject, on every server version. One consumer with `filter_subjects` (nats-server
 * 2.10) would have its filters set by whichever replica ensured it last, so during a rollout an older
 * replica would narrow them back and the consumer would pass over the events of the types it dropped,
 * for good (a filter widened again does not deliver them). A durable per type is left alone by a
 * release that does not know its type. A consumer made by an earlier layout (`filter_subjects`, or
 * one covering filter) is handed over: see `handOver`.
 */
export async function ensureConsumer(jsm: JetStreamManager, spec: ConsumerSpec): Promise<EnsuredConsumer> {
  const filters = [...new Set(spec.filterSubjects)];
  if (filters.length === 0) throw new Error(`Consumer ${spec.durable} needs at least one filter subject`);
  const whole: DurableSpec = { durable: spec.durable, filters };
  if (filters.length === 1) return { parts: [await ensureDurable(jsm, spec, whole)] };
  const split = splitDurables(spec.durable, filters).map(({ durable, filter }) => ({ durable, filters: [filter] }));
  return { parts: await handOver(jsm, spec, [whole], split) };
}

/**
 * `<durable>-<rest of the subject>` per filter, the rest being the tokens after the prefix all the
 * filters share: `dispatch-release-slots-JobSucceeded` for `<prefix>.events.job.JobSucceeded`.
 */
export function splitDurables(durable: string, filters: string[]): { durable: string; filter: string }[] {
  const tokens = filters.map((f) => f.split('.'));
  const shortest = Math.min(...tokens.map((t) => t.length));
  let shared = 0;
  while (shared < shortest - 1 && tokens.every((t) => t[shared] === tokens[0][shared])) shared++;
  return filters.map((filter, i) => {
    const rest = tokens[i]
      .slice(shared)
      .map((t) => (t === '*' ? 'any' : t === '>' ? 'all' : t.replace(/[^A-Za-z0-9_-]/g, '_')))
      .join('-');
    return { durable: `${durable}-${rest}`, filter };
  });
}

/**
 * Replaces the consumers `from` (those that exist) by the consumers `to`, without skipping an event.
 *
 * Each new consumer starts at the lowest sequence an old one may not have handled: its ack floor
 * (everything at or below is acked) plus one, or, for an old consumer with nothing pending or
 * awaiting ack, the stream's last sequence read before it plus one. Events between that point and
 * where an old consumer really was are delivered again, which handlers tolerate (at-least-once
 * delivery, idempotent handlers); none is lost. The old consumers are deleted once every new one
 * exists, so a replica that crashes in between repeats the hand-over from the same old consumers.
 * Replicas racing through it compute start points at or below each other's (ack floors only rise),
 * and a new consumer another replica already made is kept as it is, so a race also costs only
 * redeliveries. A replica of this release whose consumer is deleted under it ensures its consumers
 * again (JetStreamServer) and so joins the new layout; a replica of an older release stops getting
 * those events until it is replaced.
 *
 * An existing `to` consumer whose filters differ is a leftover of an older layout (an older release
 * recreating the covering consumer, say): it is replaced, starting at the hand-over point, which
 * takes its position into account as well.
 * See https://docs.nats.io/nats-concepts/jetstream/consumers (ack floor, deliver policies).
 */
export async function handOver(jsm: JetStreamManager, spec: ConsumerSpec, from: DurableSpec[], to: DurableSpec[]): Promise<ConsumerInfo[]> {
  const lastSeq = (await jsm.streams.info(spec.stream)).state.last_seq;
  const infos = async (targets: DurableSpec[]) => (await Promise.all(targets.map((t) => consumerInfo(jsm, spec.stream, t.durable)))).filter((c): c is ConsumerInfo => c !== null);
  const old = await infos(from);
  if (old.length === 0) return Promise.all(to.map((t) => ensureDurable(jsm, spec, t)));
  // A leftover `to` consumer of another layout is replaced, so its position counts too: it may be
  // the only one that followed some of the filters (an older replica still reading it).
  const leftovers = (await infos(to)).filter((c) => !sameFilters(c.config, filterConfig(to.find((t) => t.durable === c.name)!.filters)));
  const startSeq = Math.min(...[...old, ...leftovers].map((c) => resumeSequence(c, lastSeq)));
  const parts: ConsumerInfo[] = [];
  for (const t of to) parts.push(await ensureDurable(jsm, spec, t, startSeq));
  for (const c of old) await deleteConsumer(jsm, spec.stream, c.name);
  return parts;
}

/** The first stream sequence a successor of `info`'s consumer must deliver (see `handOver`). */
function resumeSequence(info: ConsumerInfo, lastSeqBefore: number): number {
  const floor = info.ack_floor.stream_seq;
  const drained = info.num_pending === 0 && info.num_ack_pending === 0;
  return (drained ? Math.max(floor, lastSeqBefore) : floor) + 1;
}

async function ensureDurable(jsm: JetStreamManager, spec: ConsumerSpec, target: DurableSpec, startSeq?: number): Promise<ConsumerInfo> {
  const start = startSeq ?? spec.resumeAt;
  const config: Partial<ConsumerConfig> = {
    durable_name: target.durable,
    ack_policy: AckPolicy.Explicit,
    ...(start === undefined ? { deliver_policy: DeliverPolicy.All } : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start }),
    replay_policy: ReplayPolicy.Instant,
    max_deliver: spec.maxDeliver ?? -1,
    ack_wait: nanos(spec.ackWaitMs ?? 30_000),
    max_ack_pending: spec.maxAckPending ?? 1000,
    ...filterConfig(target.filters),
  };
  const adopt = async (existing: ConsumerInfo): Promise<ConsumerInfo> => {
    if (startSeq === undefined || sameFilters(existing.config, config)) return reconcileConsumer(jsm, spec.stream, existing, config);
    await deleteConsumer(jsm, spec.stream, target.durable);
    return createOrAdopt(jsm, spec.stream, config, (raced) => reconcileConsumer(jsm, spec.stream, raced, config));
  };
  const existing = await consumerInfo(jsm, spec.stream, target.durable);
  if (existing) return adopt(existing);
  return createOrAdopt(jsm, spec.stream, config, adopt);
}

function filterConfig(filters: string[]): Partial<ConsumerConfig> {
  return filters.length === 1 ? { filter_subject: filters[0] } : { filter_subjects: filters };
}

/**
 * Adds a consumer; when another replica added it first, hands the one it made to `adopt`. The
 * server's answer to that race depends on its version and on what differs (2.9 answers a start
 * sequence other than the existing consumer's with a generic create error), so any failed add
 * is followed by a read: a consumer that exists now is adopted, and only otherwise is it an error.
 */
async function createOrAdopt(jsm: JetStreamManager, stream: string, config: Partial<ConsumerConfig>, adopt: (existing: ConsumerInfo) => Promise<ConsumerInfo>): Promise<ConsumerInfo> {
  try {
    return await jsm.consumers.add(stream, config);
  } catch (err) {
    const raced = await consumerInfo(jsm, stream, config.durable_name!);
    if (!raced) throw err;
    return adopt(raced);
  }
}

function sameFilters(have: Partial<ConsumerConfig>, want: Partial<ConsumerConfig>): boolean {
  return (have.filter_subject ?? '') === (want.filter_subject ?? '') && JSON.stringify(have.filter_subjects ?? []) === JSON.stringify(want.filter_subjects ?? []);
}

async function reconcileConsumer(jsm: JetStreamManager, stream: string, info: ConsumerInfo, want: Partial<ConsumerConfig>): Promise<ConsumerInfo> {
  const have = info.config;
  const same = sameFilters(have, want) && have.max_deliver === want.max_deliver && have.ack_wait === want.ack_wait && have.max_ack_pending === want.max_ack_pending;
  if (same) return info;
  const { durable_name: durable, ack_policy: _ack, deliver_policy: _deliver, opt_start_seq: _start, replay_policy: _replay, ...updatable } = want;
  // nats.js merges the update into the consumer's config: the filter field not wanted is cleared, or
  // 2.10 refuses a consumer with both (one made with `filter_subjects` by an earlier layout).
  const otherFilter = want.filter_subjects ? { filter_subject: undefined } : { filter_subjects: undefined };
  return jsm.consumers.update(stream, durable!, { ...updatable, ...otherFilter });
}
