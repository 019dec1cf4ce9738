export interface CallbackDelivery {
  provider: string;
  taskId: string;
  url: string;
  /** What this delivery represents: a status push, a duplicate, or a late (stale) push. */
  kind: 'status' | 'duplicate' | 'late';
  phase: string;
  attempt: number;
  httpStatus: number | null;
  error?: string;
  at: string;
}

/**
 * Posts callbacks like the real providers do: retried up to 3 times, 100 ms apart, with a 5 s
 * timeout per attempt (Luma's documented policy; Ark retries terminal callbacks 3 times too).
 */
export class CallbackSender {
  readonly deliveries: CallbackDelivery[] = [];
  private readonly pending = new Set<Promise<void>>();
  private closed = false;

  /** `acknowledged`: which answers end the retries (any 2xx unless the provider documents less; Luma retries every non-200). */
  send(meta: Omit<CallbackDelivery, 'attempt' | 'httpStatus' | 'at'>, body: string, headers: Record<string, string> = {}, delayMs = 0, acknowledged = isSuccess): void {
    const p = this.run(meta, body, headers, delayMs, acknowledged).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  private async run(meta: Omit<CallbackDelivery, 'attempt' | 'httpStatus' | 'at'>, body: string, headers: Record<string, string>, delayMs: number, acknowledged: (httpStatus: number) => boolean): Promise<void> {
    if (delayMs > 0) await sleep(delayMs);
    for (let attempt = 1; attempt <= 4 && !this.closed; attempt++) {
      let httpStatus: number | null = null;
      let error: string | undefined;
      try {
        const res = await fetch(meta.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body,
          signal: AbortSignal.timeout(5000),
        });
        httpStatus = res.status;
        await res.arrayBuffer().catch(() => undefined);
      } catch (e) {
        error = (e as Error).message;
      }
      this.deliveries.push({ ...meta, attempt, httpStatus, ...(error ? { error } : {}), at: new Date().toISOString() });
      if (httpStatus !== null && acknowledged(httpStatus)) return;
      await sleep(100);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.pending]);
  }

  reset(): void {
    this.deliveries.length = 0;
  }
}

const isSuccess = (httpStatus: number) => httpStatus >= 200 && httpStatus < 300;

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
