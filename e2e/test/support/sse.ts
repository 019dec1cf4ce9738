import type { Job } from '@reelay/contracts';

export interface SseJobEvent {
  id: number;
  job: Job;
}

/** Reads a job's SSE stream until the server ends it (after a terminal status) or the timeout. */
export async function readJobStream(
  url: string,
  key: string,
  opts: { lastEventId?: number; timeoutMs?: number; onEvent?: (e: SseJobEvent) => void; signal?: AbortSignal } = {},
): Promise<SseJobEvent[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), opts.timeoutMs ?? 30_000);
  const onCallerAbort = () => controller.abort();
  opts.signal?.addEventListener('abort', onCallerAbort, { once: true });
  const events: SseJobEvent[] = [];
  try {
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream', ...(opts.lastEventId ? { 'last-event-id': String(opts.lastEventId) } : {}) },
      signal: controller.signal,
    });
    if (res.status !== 200 || !res.body) throw new Error(`stream answered ${res.status}`);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let sep: number;
      while ((sep = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, sep);
        buffer = buffer.slice(sep + 2);
        const fields = Object.fromEntries(
          block
            .split('\n')
            .filter((l) => l && !l.startsWith(':'))
            .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trimStart()]),
        );
        if (fields.event === 'job' && fields.data) {
          const event = { id: Number(fields.id), job: JSON.parse(fields.data) as Job };
          events.push(event);
          opts.onEvent?.(event);
        }
      }
    }
  } catch (err) {
    if ((err as Error).name !== 'AbortError') throw err;
    throw new Error(`stream did not end within the timeout; saw ${events.map((e) => e.job.status).join(',')}`);
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onCallerAbort);
  }
  return events;
}

/** Status changes in order, without repeats (progress updates share a status). */
export const statusesOf = (events: SseJobEvent[]) => events.map((e) => e.job.status).filter((s, i, a) => i === 0 || a[i - 1] !== s);
