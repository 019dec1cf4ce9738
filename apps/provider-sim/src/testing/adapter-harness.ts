import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ProviderAdapter, ProviderCheckResult, ProviderSubmitRequest } from '@reelay/providers';
import { ProviderError } from '@reelay/providers';

let seq = 0;

/** A submit request with sensible defaults and a unique submission key. */
export function request(overrides: Partial<ProviderSubmitRequest> & { model: string }): ProviderSubmitRequest {
  return { prompt: 'a red fox in snow', durationSeconds: 5, aspectRatio: '16:9', submissionKey: `sub-${process.pid}-${++seq}-${Date.now()}`, ...overrides };
}

/** Polls `check` until a terminal state (or `maxChecks`), returning every result seen. */
export async function pollToEnd(adapter: ProviderAdapter, taskId: string, maxChecks = 10): Promise<ProviderCheckResult[]> {
  const seen: ProviderCheckResult[] = [];
  for (let i = 0; i < maxChecks; i++) {
    const r = await adapter.check(taskId);
    seen.push(r);
    if (r.state === 'succeeded' || r.state === 'failed' || r.state === 'canceled') break;
  }
  return seen;
}

export async function submitAndFinish(adapter: ProviderAdapter, req: ProviderSubmitRequest, maxChecks = 10): Promise<ProviderCheckResult> {
  const { providerTaskId } = await adapter.submit(req);
  const seen = await pollToEnd(adapter, providerTaskId, maxChecks);
  return seen[seen.length - 1];
}

/** Runs `fn` and returns the ProviderError it throws (fails the test when it does not throw one). */
export async function providerError(fn: () => Promise<unknown>): Promise<ProviderError> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof ProviderError) return e;
    throw e;
  }
  throw new Error('expected a ProviderError');
}

export interface CallbackSink {
  url: string;
  /** Each delivery as received; `query` is the URL's query string without '?'. */
  received: { headers: Record<string, string | string[] | undefined>; body: string; query: string }[];
  waitFor(predicate: (bodies: string[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** A local HTTP endpoint that records callback deliveries and answers `status` (200). */
export async function startCallbackSink(status = 200): Promise<CallbackSink> {
  const received: CallbackSink['received'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), query: (req.url ?? '').split('?')[1] ?? '' });
      res.writeHead(status).end(status === 204 ? undefined : 'ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hooks/provider`,
    received,
    async waitFor(predicate, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(received.map((r) => r.body))) {
        if (Date.now() > deadline) throw new Error(`callbacks not received in time; got ${received.length}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}
