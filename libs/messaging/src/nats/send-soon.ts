/**
 * Runs `send` (a NATS publish or ack: synchronous, fire-and-forget) at the end of this turn of the
 * event loop, together with every other send queued during the turn; resolves once it ran, or
 * rejects with what it threw.
 *
 * Why: nats.js copies each send into its outbound buffer and writes that buffer to the socket
 * once per microtask checkpoint. Handlers finish at different microtask depths even when one
 * PostgreSQL answer (a group commit) resolves them all, so each ack went out as its own write(2),
 * and each write woke nats-server (strace of notification under load: one write per ack and one
 * per live push). Queued to `setImmediate`, the sends of one turn leave in one write.
 */
export function sendSoon(send: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    queue.push({ send, resolve, reject });
    if (queue.length === 1) setImmediate(flush);
  });
}

interface QueuedSend {
  send: () => void;
  resolve: () => void;
  reject: (err: unknown) => void;
}

const queue: QueuedSend[] = [];

function flush(): void {
  for (const item of queue.splice(0)) {
    try {
      item.send();
      item.resolve();
    } catch (err) {
      item.reject(err);
    }
  }
}
