import type { Job } from '@reelay/contracts';

/** One SSE message: `id:` = stream version, `event: job`, `data:` = the job as one JSON line. */
export function formatJobEvent(version: number, job: Job): string {
  // JSON.stringify never emits raw newlines, so the data fits on one `data:` line.
  return `id: ${version}\nevent: job\ndata: ${JSON.stringify(job)}\n\n`;
}

/** A comment line: ignored by EventSource, keeps proxies from closing an idle connection. */
export const HEARTBEAT = ': keep-alive\n\n';

/** Tells EventSource how long to wait before reconnecting. */
export const retryHint = (ms: number) => `retry: ${Math.max(0, Math.floor(ms))}\n\n`;

/** The version to resume after; 0 (from the start) when the header is absent or not a version. */
export function parseLastEventId(raw: string | string[] | undefined): number {
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (!value || !/^\d{1,9}$/.test(value.trim())) return 0;
  return Number(value.trim());
}
