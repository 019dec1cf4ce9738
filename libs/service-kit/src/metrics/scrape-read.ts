/** How long a gauge read at scrape time may take (Prometheus gives a whole scrape 10 s by default). */
export const SCRAPE_READ_TIMEOUT_MS = 2_000;

/**
 * A database read made at scrape time, or null when it fails or takes longer than `timeoutMs`:
 * with the pool exhausted or the database stalled each read would wait out the pool's checkout
 * timeout, the scrape would time out, and the whole target would go missing during the incident.
 */
export function scrapeRead<T>(read: () => Promise<T>, timeoutMs = SCRAPE_READ_TIMEOUT_MS): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), timeoutMs);
    timer.unref();
  });
  return Promise.race([read().catch(() => null), late]).finally(() => clearTimeout(timer));
}
