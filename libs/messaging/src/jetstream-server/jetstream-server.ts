import { EventEmitter } from 'node:events';
import type { Consumer, ConsumerInfo, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { jetstream, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import { isObservable, lastValueFrom } from 'rxjs';
import type { DeadLetterSink } from '../dead-letters/dead-letter-sink';
import { connectNats } from '../nats/connect-nats';
import { sendSoon } from '../nats/send-soon';
import { DEFAULT_PREFIX, eventStreamName, subjectMatches } from '../nats/subjects';
import { ensureConsumer, type ConsumerSpec } from '../nats/durable-consumers';
import { ensureEventStream, ensureTopology, type TopologyOptions } from '../nats/topology';
import { contextFromTraceparent, inSpan, SpanKind } from '../tracing/trace-context';
import { nakDelay, resolveBinding, type ConsumerBinding, type ResolvedBinding } from './consumer-binding';
import { decodeEventMessage } from './decode-event';
import { describeError } from './jetstream-error.filter';
import { JetStreamContext } from './jetstream-context';
import { Semaphore } from './semaphore';

export const JETSTREAM_TRANSPORT = Symbol('JETSTREAM');

export interface JetStreamServerOptions {
  /** Either an existing connection (left open on close) or servers to connect to (drained on close). */
  connection?: NatsConnection;
  servers?: string | string[];
  /** Connection name, shown by the server (`nats server report connections`). */
  name?: string;
  prefix?: string;
  consumers: ConsumerBinding[];
  deadLetters: DeadLetterSink;
  topology?: Omit<TopologyOptions, 'consumers'>;
  /**
   * How often each consumer's backlog is read and reported as a `pending` event (default 10 s; 0
   * turns it off). The same reading keeps the ack floor a consumer made anew resumes after.
   */
  lagIntervalMs?: number;
}

export interface DeadLetteredEvent {
  consumer: string;
  subject: string;
  eventId: string | null;
  error: string;
  deliveries: number;
}

/** What became of one delivery: acked, handed back for a retry, or dead-lettered. */
export type HandledOutcome = 'ack' | 'retry' | 'dead_letter';

/** The pulls of one binding's consumers, from one ensuring of them to the next. */
interface Generation {
  /** Set when a fetch of one of its consumers failed (deleted, missing), or when the server closes. */
  ended: boolean;
  pulls: Set<ConsumerMessages>;
}

interface KnownFloor {
  seq: number;
  /** The stream's creation time: a stream made again (a JetStream store lost) numbers from 1 again. */
  streamCreated: string;
}

/** How long one fetch waits for messages; the server sends heartbeats meanwhile (every half of it). */
const FETCH_EXPIRES_MS = 30_000;

const keepAliveMs = (binding: ResolvedBinding) => Math.max(1000, binding.ackWaitMs / 2);

function endGeneration(generation: Generation): void {
  generation.ended = true;
  for (const pull of generation.pulls) pull.stop();
}

type JetStreamServerEvents = {
  error: (err: Error) => void;
  deadLettered: (entry: DeadLetteredEvent) => void;
  handled: (entry: { consumer: string; outcome: HandledOutcome }) => void;
  /** Messages of the stream the consumer has not been handed yet (its lag). */
  pending: (entry: { consumer: string; pending: number }) => void;
  /** A handler ran past the binding's `maxHandlerMs`: its message is left to be delivered again. */
  overdue: (entry: { consumer: string; eventId: string }) => void;
  /** An event carried data fields this release does not know (a newer release wrote them); they were dropped. */
  ignoredFields: (entry: { consumer: string; type: string; fields: string[] }) => void;
};

/**
 * Nest custom transport over JetStream durable pull consumers. Handlers are plain
 * `@EventPattern('<subject or wildcard>')` methods receiving the RecordedEvent (data upcast to the
 * current schema version) and a JetStreamContext. Success acks; an error naks with growing delay;
 * after `maxDeliver` deliveries, or at once for a payload that is not a valid event, the message is
 * recorded as a dead letter and terminated. Replicas of a service share each durable consumer, so
 * every message goes to one of them.
 */
export class JetStreamServer extends Server<JetStreamServerEvents> implements CustomTransportStrategy {
  override readonly transportId = JETSTREAM_TRANSPORT;
  override readonly propagatesEventHandlerErrors = true;

  private readonly prefix: string;
  private readonly bindings: ResolvedBinding[];
  private readonly emitter = new EventEmitter();
  /** Event types and fields already warned about (once each per process). */
  private readonly ignoredWarned = new Set<string>();
  private readonly routes = new Map<string, MessageHandler | null>();
  private readonly generations = new Set<Generation>();
  /** Binding durable → the durable consumers the server keeps for it. */
  private readonly parts = new Map<string, string[]>();
  /** Per binding: the last ack floor read from its consumers, and the stream it was read on. */
  private readonly floors = new Map<string, KnownFloor>();
  private loops: Promise<void>[] = [];
  /** Handlers running, over every binding and generation: close() waits for them. */
  private readonly running = new Set<Promise<void>>();
  private nc?: NatsConnection;
  private closing = false;
  private lagTimer?: NodeJS.Timeout;

  constructor(private readonly options: JetStreamServerOptions) {
    super();
    if (!options.connection && !options.servers) throw new Error('JetStreamServer needs a connection or servers');
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    this.bindings = options.consumers.map(resolveBinding);
    this.emitter.on('error', () => undefined); // an unobserved 'error' must not crash the process
  }

  async listen(callback: (err?: unknown) => void): Promise<void> {
    try {
      await this.start();
      callback();
    } catch (err) {
      callback(err);
    }
  }

  private async start(): Promise<void> {
    this.nc = this.options.connection ?? (await connectNats(this.options.servers!, this.options.name ?? 'reelay-jetstream-server'));
    const stream = eventStreamName(this.prefix);
    const specOf = (b: ResolvedBinding): ConsumerSpec => ({ stream, durable: b.durable, filterSubjects: b.filterSubjects, ackWaitMs: b.ackWaitMs, maxAckPending: b.maxAckPending });
    const topology = await ensureTopology(this.nc, this.prefix, { ...this.options.topology, consumers: this.bindings.map(specOf) });
    const js = jetstream(this.nc);
    for (const binding of this.bindings) {
      const ensured = topology.consumers.get(binding.durable)!.parts;
      this.floors.set(binding.durable, { seq: lowestFloor(ensured), streamCreated: topology.stream.created });
      const ensure = async () => {
        // The stream too: one lost with the JetStream store (or deleted) would otherwise stop every binding until a restart.
        await ensureEventStream(topology.jsm, this.prefix, this.options.topology);
        return (await ensureConsumer(topology.jsm, { ...specOf(binding), resumeAt: await this.resumeAt(topology.jsm, stream, binding.durable) })).parts.map((p) => p.name);
      };
      const parts = ensured.map((p) => p.name);
      this.loops.push(this.bindingLoop(binding, parts, ensure, (part) => js.consumers.get(stream, part)));
    }
    const lagMs = this.options.lagIntervalMs ?? 10_000;
    if (lagMs > 0) {
      void this.reportLag(topology.jsm, stream);
      this.lagTimer = setInterval(() => void this.reportLag(topology.jsm, stream), lagMs);
      this.lagTimer.unref();
    }
  }

  /**
   * Reads every durable consumer that serves a binding (one per filter on servers before 2.10),
   * sharing the binding's concurrency. When one of them is deleted under it, which is another
   * replica handing the binding over to a new layout (see `handOver`), it stops the others, ensures
   * the binding's consumers again and goes on with those: without that, this replica would wait
   * on the deleted consumer for good.
   */
  private async bindingLoop(binding: ResolvedBinding, first: string[], ensure: () => Promise<string[]>, consumerOf: (part: string) => Promise<Consumer>): Promise<void> {
    const slots = new Semaphore(binding.concurrency);
    let parts: string[] | null = first;
    while (!this.closing) {
      if (!parts) {
        try {
          parts = await ensure();
          this.logger.log?.(`consumers of ${binding.durable} ensured again after one was deleted: ${parts.join(', ')}`);
        } catch (err) {
          this.reportError(err);
          await new Promise((r) => setTimeout(r, 1000));
          continue;
        }
      }
      this.parts.set(binding.durable, parts);
      const generation: Generation = { ended: false, pulls: new Set() };
      this.generations.add(generation);
      await Promise.all(
        parts.map(async (part) => {
          try {
            return await this.consumeLoop(binding, await consumerOf(part), slots, generation);
          } catch (err) {
            this.reportError(err); // the consumer is gone already: ensure them again
            endGeneration(generation);
          }
        }),
      );
      this.generations.delete(generation);
      if (this.closing) return;
      parts = null;
    }
  }

  private async reportLag(jsm: JetStreamManager, stream: string): Promise<void> {
    for (const [durable, parts] of this.parts) {
      if (!this.nc || this.nc.isClosed() || this.closing) return;
      try {
        const infos: ConsumerInfo[] = [];
        for (const part of parts) infos.push(await jsm.consumers.info(stream, part));
        const known = this.floors.get(durable);
        if (known) known.seq = lowestFloor(infos);
        this.emitter.emit('pending', { consumer: durable, pending: infos.reduce((sum, info) => sum + info.num_pending, 0) });
      } catch {
        // A lag reading is best effort (a consumer may be mid hand-over): the next tick tries again.
      }
    }
  }

  /**
   * Where a binding's consumer made anew (deleted by an operator, or lost with the server's store)
   * starts: after the ack floor last read from it, so the service does not see the whole stream
   * again, only what was acked since that reading (at most one lag interval of events, which
   * handlers tolerate as redeliveries). Ack floors only rise, so an older reading skips nothing.
   * On a stream made anew since the reading, whose sequences start again from 1, or without a
   * reading, the consumer starts at the stream's first message.
   */
  private async resumeAt(jsm: JetStreamManager, stream: string, durable: string): Promise<number | undefined> {
    const known = this.floors.get(durable);
    const info = await jsm.streams.info(stream);
    const sameStream = known !== undefined && known.streamCreated === info.created && known.seq <= info.state.last_seq;
    this.floors.set(durable, { seq: sameStream ? known.seq : 0, streamCreated: info.created });
    return sameStream ? known.seq + 1 : undefined;
  }

  /**
   * Stops pulling, hands back buffered messages, waits for running handlers, then drains its own
   * connection. A message the server was sending to a pull as it stopped reaches no handler and is
   * delivered again after the binding's ack_wait.
   */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.lagTimer);
    for (const generation of this.generations) endGeneration(generation);
    await Promise.allSettled(this.loops);
    this.loops = [];
    await Promise.allSettled([...this.running]);
    if (this.nc && !this.options.connection && !this.nc.isClosed()) await this.nc.drain();
  }

  on<K extends keyof JetStreamServerEvents>(event: K, callback: JetStreamServerEvents[K]): void {
    this.emitter.on(event, callback as (...args: unknown[]) => void);
  }

  unwrap<T>(): T {
    if (!this.nc) throw new Error('JetStreamServer is not listening yet');
    return this.nc as T;
  }

  /**
   * Fetches at most `concurrency` messages at a time, and the next batch only once every message of
   * the last one has a slot. The client's `consume()` asks for more as soon as messages arrive, not
   * as handlers finish, so with busy handlers its buffer grows up to the consumer's
   * `max_ack_pending` (100,000 for dispatch), and a buffered message gets no `working()`: past
   * `ack_wait` the server sends it again while the first copy still waits, and its delivery count
   * climbs towards `maxDeliver`. Here what waits is bounded by the binding's parts × concurrency,
   * and each waiting message is kept alive until it has a slot.
   */
  private async consumeLoop(binding: ResolvedBinding, consumer: Consumer, slots: Semaphore, generation: Generation): Promise<void> {
    const start = (msg: JsMsg) => {
      const token = {};
      slots.started(token);
      const task: Promise<void> = this.process(msg, binding)
        .catch((err) => this.reportError(err))
        .finally(() => {
          slots.finished(token);
          slots.release();
          this.running.delete(task);
        });
      this.running.add(task);
    };
    const hung = () => slots.allHeldSince(Date.now() - binding.maxHandlerMs);
    while (!this.closing && !generation.ended) {
      // Every slot held by a handler past its time: fetch nothing, so other replicas get the events.
      if (hung()) {
        await new Promise((r) => setTimeout(r, keepAliveMs(binding)));
        continue;
      }
      let batch: ConsumerMessages | undefined;
      const waiting: Promise<void>[] = [];
      try {
        batch = await consumer.fetch({ max_messages: binding.concurrency, expires: FETCH_EXPIRES_MS });
        generation.pulls.add(batch);
        if (this.closing || generation.ended) batch.stop();
        for await (const msg of batch) {
          if (this.closing) this.sendAck(() => msg.nak()); // let another replica take it now rather than after ack_wait
          else if (slots.tryAcquire()) start(msg);
          else waiting.push(this.startWhenFree(msg, binding, slots, start));
        }
      } catch (err) {
        // A fetch ends without an error when it is filled or expires. The client ends it with one when
        // the consumer was deleted, the consumer or stream is not there (also found after a
        // reconnect), nobody answers or heartbeats stop: all met by ensuring the consumers again.
        if (!this.closing) {
          this.reportError(err);
          await new Promise((r) => setTimeout(r, 1000));
          endGeneration(generation);
        }
      } finally {
        if (batch) generation.pulls.delete(batch);
      }
      await Promise.all(waiting);
    }
    // Handlers still running go on in their slots (the binding's semaphore outlives the generation):
    // waiting for them here would stop the binding after a failed fetch until its slowest handler
    // returned (a provider call of minutes), or for good behind one hung past maxHandlerMs.
  }

  /**
   * Keeps `msg` alive until a slot frees up, unless every slot comes to be held by a handler past
   * maxHandlerMs (hung on a call that never returns, say): those slots may never free up, and a
   * message kept alive here would never reach another replica. It is handed back then, once: the
   * loop fetches nothing while the slots stay hung, so it does not come back here meanwhile.
   */
  private async startWhenFree(msg: JsMsg, binding: ResolvedBinding, slots: Semaphore, start: (msg: JsMsg) => void): Promise<void> {
    const giveUp = new AbortController();
    const keepAlive = setInterval(() => {
      if (slots.allHeldSince(Date.now() - binding.maxHandlerMs)) giveUp.abort();
      else this.sendAck(() => msg.working());
    }, keepAliveMs(binding));
    let acquired = true;
    try {
      await slots.acquire(giveUp.signal).catch(() => (acquired = false));
    } finally {
      clearInterval(keepAlive);
    }
    if (!acquired) {
      this.logger.error(`a message on ${binding.durable} is handed back for another replica: every handler slot here is held by a handler past ${binding.maxHandlerMs} ms`);
      return this.handBack(msg, binding);
    }
    if (!this.closing) {
      // The last keep-alive may be almost an interval old, and process() sends its first one an interval from now.
      this.sendAck(() => msg.working());
      return start(msg);
    }
    slots.release();
    this.sendAck(() => msg.nak());
  }

  private async process(msg: JsMsg, binding: ResolvedBinding): Promise<void> {
    const deliveries = msg.info.deliveryCount;
    // During a rolling deploy a newer release may have changed this consumer's filter (a single
    // filter is updated in place), added an event type or a schema version: its replicas can handle
    // what this one cannot, so it is handed back for them, and only at the delivery bound given up.
    const handBack = () => this.handBack(msg, binding);
    if (!binding.filterSubjects.some((f) => subjectMatches(f, msg.subject))) {
      if (deliveries < binding.maxDeliver) return handBack();
      // No replica that wants it took it in time: kept as a dead letter to replay once the rollout is
      // done, not acked away, which would lose it for the release that handles it.
      const outside = decodeEventMessage(msg.data);
      const eventId = outside.ok ? outside.recorded.eventId : outside.eventId;
      return this.deadLetter(msg, binding, { eventId, payload: outside.payload, error: `${msg.subject} is outside this release's filters; no replica that handles it took it in ${deliveries} deliveries` });
    }
    const decoded = decodeEventMessage(msg.data);
    if (!decoded.ok) {
      if (decoded.unknown && deliveries < binding.maxDeliver) return handBack();
      return this.deadLetter(msg, binding, { eventId: decoded.eventId, payload: decoded.payload, error: `invalid payload: ${decoded.error}` });
    }
    const { recorded, event, payload } = decoded;
    if (decoded.ignoredFields) {
      this.warnIgnoredFields(recorded.type, decoded.ignoredFields);
      this.emitter.emit('ignoredFields', { consumer: binding.durable, type: recorded.type, fields: decoded.ignoredFields });
    }
    const handler = this.route(msg.subject);
    if (!handler) {
      if (deliveries < binding.maxDeliver) return handBack();
      return this.deadLetter(msg, binding, { eventId: recorded.eventId, payload, error: `no handler for ${msg.subject}` });
    }
    if (deliveries > binding.maxDeliver + 1) {
      // Redelivered past the bound without a handler verdict (a crash, an ack timeout or an ack that
      // could not be sent on the last try): it gets one more run, since its work may well be done
      // and handlers are idempotent, and is a dead letter only after that.
      return this.deadLetter(msg, binding, { eventId: recorded.eventId, payload, error: `exceeded ${binding.maxDeliver} deliveries` });
    }
    const startedAt = Date.now();
    const keepAlive = setInterval(() => {
      if (Date.now() - startedAt < binding.maxHandlerMs) return this.sendAck(() => msg.working());
      clearInterval(keepAlive);
      this.logger.error(`handler of ${recorded.type} ${recorded.eventId} (${recorded.streamId}) on ${binding.durable} has run for over ${binding.maxHandlerMs} ms; it is no longer kept alive, and the event will be delivered again`);
      this.emitter.emit('overdue', { consumer: binding.durable, eventId: recorded.eventId });
    }, keepAliveMs(binding));
    // The handler runs in a consumer span whose parent is the trace the event was written in, so
    // what it logs and the events it appends stay on that trace.
    const parent = contextFromTraceparent(msg.headers?.get('traceparent'), recorded.metadata.traceparent);
    const attributes = { 'messaging.system': 'nats', 'messaging.consumer.group.name': binding.durable, 'messaging.destination.name': msg.subject, 'reelay.event.type': recorded.type, 'reelay.event.id': recorded.eventId, 'reelay.stream.id': recorded.streamId, 'messaging.delivery.count': deliveries };
    try {
      await inSpan(`${binding.durable} process ${recorded.type}`, { kind: SpanKind.CONSUMER, parent, attributes }, async () => {
        const out = await handler(recorded, new JetStreamContext([msg, binding.durable, event]));
        if (isObservable(out)) await lastValueFrom(out, { defaultValue: undefined });
      });
    } catch (err) {
      if (deliveries >= binding.maxDeliver) {
        return this.deadLetter(msg, binding, { eventId: recorded.eventId, payload, error: describeError(err) });
      }
      return handBack();
    } finally {
      clearInterval(keepAlive);
    }
    try {
      await sendSoon(() => msg.ack());
    } catch (err) {
      // The work is done but the ack did not leave (connection closed, say): the message comes back.
      this.reportError(err);
      this.emitter.emit('handled', { consumer: binding.durable, outcome: 'retry' });
      return;
    }
    this.emitter.emit('handled', { consumer: binding.durable, outcome: 'ack' });
  }

  /** A newer release writes fields this one drops: said once per type and fields, so an operator sees a rollout half done. */
  private warnIgnoredFields(type: string, fields: string[]): void {
    const key = `${type}:${fields.join(',')}`;
    if (this.ignoredWarned.has(key)) return;
    this.ignoredWarned.add(key);
    this.logger.warn?.(`${type} events carry fields this release does not know (${fields.join(', ')}); they are ignored until this service runs the release that writes them`);
  }

  private async deadLetter(msg: JsMsg, binding: ResolvedBinding, entry: { eventId: string | null; payload: unknown; error: string }): Promise<void> {
    const record = { consumer: binding.durable, subject: msg.subject, deliveries: msg.info.deliveryCount, ...entry };
    try {
      await this.options.deadLetters.record(record);
    } catch (err) {
      // Not recorded: keep the message; the next delivery dead-letters it again.
      this.reportError(err);
      this.sendAck(() => msg.nak(nakDelay(binding, msg.info.deliveryCount)));
      return;
    }
    this.sendAck(() => msg.term()); // no reason argument: nats-server 2.9 ignores a term that carries one
    this.logger.warn?.(`dead-lettered ${record.subject} (${record.eventId ?? 'no event id'}) on ${record.consumer}: ${record.error}`);
    this.emitter.emit('handled', { consumer: binding.durable, outcome: 'dead_letter' });
    this.emitter.emit('deadLettered', { consumer: record.consumer, subject: record.subject, eventId: record.eventId, error: record.error, deliveries: record.deliveries });
  }

  /** Exact pattern first, then the first registered wildcard pattern that matches. */
  private route(subject: string): MessageHandler | null {
    if (this.routes.has(subject)) return this.routes.get(subject)!;
    let handler = this.getHandlerByPattern(subject);
    if (!handler) {
      for (const [pattern, h] of this.messageHandlers) {
        if (subjectMatches(pattern, subject)) {
          handler = h;
          break;
        }
      }
    }
    this.routes.set(subject, handler);
    return handler;
  }

  /** Gives `msg` back for a later delivery (here or at another replica), after the binding's nak delay. */
  private handBack(msg: JsMsg, binding: ResolvedBinding): void {
    this.sendAck(() => msg.nak(nakDelay(binding, msg.info.deliveryCount)));
    this.emitter.emit('handled', { consumer: binding.durable, outcome: 'retry' });
  }

  /** Sends an ack-protocol reply (nak, term, working); one that throws (connection closed) is reported, and the server redelivers. */
  private sendAck(send: () => void): void {
    try {
      send();
    } catch (err) {
      this.reportError(err);
    }
  }

  private reportError(err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    this.logger.error(`JetStream transport: ${error.message}`);
    this.emitter.emit('error', error);
  }
}

/** The stream sequence at or below which every consumer of a binding has had every message acked. */
function lowestFloor(parts: ConsumerInfo[]): number {
  return Math.min(...parts.map((p) => p.ack_floor.stream_seq));
}
