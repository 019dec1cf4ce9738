import type { Job } from '@reelay/contracts';

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

/** A tiny client for the public API, as a user's code would call it. */
export function apiClient(baseUrl: string, key: string) {
  const call = async <T = unknown>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON (content, SSE)
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  };
  return {
    call,
    submit: (body: unknown, headers: Record<string, string> = {}) => call<Job>('POST', '/v1/jobs', body, headers),
    get: (id: string) => call<Job>('GET', `/v1/jobs/${id}`),
    cancel: (id: string) => call<Job>('POST', `/v1/jobs/${id}/cancel`),
    async waitFor(id: string, done: (job: Job) => boolean, timeoutMs = 30_000): Promise<Job> {
      const deadline = Date.now() + timeoutMs;
      let last: Job | undefined;
      while (Date.now() < deadline) {
        const r = await call<Job>('GET', `/v1/jobs/${id}`);
        if (r.status === 200) {
          last = r.body;
          if (done(last)) return last;
        }
        await new Promise((res) => setTimeout(res, 100));
      }
      throw new Error(`job ${id} did not reach the expected state; last: ${JSON.stringify(last)}`);
    },
  };
}
export type ApiClient = ReturnType<typeof apiClient>;

export const isTerminalJob = (job: Job) => ['succeeded', 'failed', 'canceled'].includes(job.status);
