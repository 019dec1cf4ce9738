import { NoRespondersError, TimeoutError, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type { ApiError, ApiErrorCode } from '@reelay/contracts';
import { isDatabaseUnavailable } from '@reelay/event-store';
import { contextFromTraceparent, inSpan, SpanKind, traceHeaders } from '../tracing/trace-context';

/** The reply a responder sends when its handler failed; matches the failure branch of CommandReply. */
export interface CommandFailure {
  ok: false;
  error: ApiError;
}

/** Throw from a command handler to refuse with a specific code and a message safe to show users. */
export class CommandRejectedError extends Error {
  constructor(readonly error: ApiError) {
    super(error.message);
    this.name = 'CommandRejectedError';
  }
  static of(code: ApiErrorCode, message: string): CommandRejectedError {
    return new CommandRejectedError({ code, message });
  }
}

/** No responder answered: none is subscribed, or none replied in time. */
export class CommandUnavailableError extends Error {
  constructor(readonly subject: string, readonly reason: 'no_responders' | 'timeout', options?: ErrorOptions) {
    super(`Command ${subject} unavailable: ${reason}`, options);
    this.name = 'CommandUnavailableError';
  }
}

/**
 * Sends a command and waits for the reply (JSON); a handler failure arrives as a CommandFailure reply.
 * The active trace context travels in the `traceparent` header.
 */
export async function request<T = unknown>(nc: NatsConnection, subject: string, payload: unknown, timeoutMs: number): Promise<T> {
  let reply: Msg;
  try {
    const headers = traceHeaders();
    reply = await nc.request(subject, JSON.stringify(payload), { timeout: timeoutMs, ...(headers ? { headers } : {}) });
  } catch (err) {
    if (err instanceof NoRespondersError || (err as Error).cause instanceof NoRespondersError) {
      throw new CommandUnavailableError(subject, 'no_responders', { cause: err });
    }
    if (err instanceof TimeoutError || (err as Error).cause instanceof TimeoutError) {
      throw new CommandUnavailableError(subject, 'timeout', { cause: err });
    }
    throw err;
  }
  return reply.json<T>();
}

export interface CommandServer {
  readonly subscription: Subscription;
  /** Stops receiving, then waits for handlers still running to reply. */
  close(): Promise<void>;
}

export interface ServeCommandsOptions {
  onError?: (err: unknown, subject: string) => void;
}

/**
 * Answers commands on `subject` in a queue group, so each request reaches one replica. Every request
 * gets a reply: the handler's result, or a CommandFailure whose message never leaks internals.
 */
export function serveCommands(
  nc: NatsConnection,
  subject: string,
  queueGroup: string,
  handler: (payload: unknown, msg: Msg) => unknown,
  opts: ServeCommandsOptions = {},
): CommandServer {
  const running = new Set<Promise<void>>();
  const answer = async (msg: Msg) => {
    let reply: unknown;
    try {
      let payload: unknown;
      try {
        payload = msg.json();
      } catch {
        throw CommandRejectedError.of('invalid_request', 'The command is not valid JSON');
      }
      const parent = contextFromTraceparent(msg.headers?.get('traceparent'));
      reply = await inSpan(`${subject} process`, { kind: SpanKind.SERVER, parent, attributes: { 'messaging.system': 'nats', 'messaging.destination.name': subject } }, async () =>
        handler(payload, msg),
      );
    } catch (err) {
      if (!(err instanceof CommandRejectedError)) opts.onError?.(err, subject);
      reply = toFailure(err);
    }
    if (!msg.reply) return;
    try {
      msg.respond(JSON.stringify(reply ?? null));
    } catch (err) {
      // A reply over max_payload, a value JSON cannot hold (BigInt), a closed connection.
      opts.onError?.(err, subject);
      try {
        msg.respond(JSON.stringify(toFailure(err)));
      } catch {
        // The connection is closed: the caller times out.
      }
    }
  };
  const subscription = nc.subscribe(subject, {
    queue: queueGroup,
    callback: (err, msg) => {
      if (err) return opts.onError?.(err, subject);
      const task: Promise<void> = answer(msg).finally(() => running.delete(task));
      running.add(task);
    },
  });
  return {
    subscription,
    async close() {
      await subscription.drain();
      await Promise.allSettled([...running]);
    },
  };
}

function toFailure(err: unknown): CommandFailure {
  if (err instanceof CommandRejectedError) return { ok: false, error: err.error };
  // An outage, not a broken command: the caller may retry (the gateway answers 503 with Retry-After).
  if (isDatabaseUnavailable(err)) return { ok: false, error: { code: 'service_unavailable', message: 'The service cannot reach its database right now; try again shortly' } };
  return { ok: false, error: { code: 'internal_error', message: 'The command could not be processed; try again later' } };
}
