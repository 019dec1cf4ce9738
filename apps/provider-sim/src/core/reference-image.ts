import { sniffImage } from '@reelay/media';

export type SentImage = { width: number; height: number } | 'unreadable';

/** The largest image any of the simulated providers takes by link (Seedance: under 30 MB). */
const MAX_IMAGE_BYTES = 30 * 1024 * 1024;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The size of a reference image as the provider would read it: a `data:` URL decoded, a link
 * fetched. The sim does not reach the network, so it fetches only links on this machine (the
 * gateway's signed asset links in the tests) and answers null, unchecked, for any other host.
 */
export async function sentImageSize(url: string): Promise<SentImage | null> {
  let bytes: Buffer;
  const data = /^data:image\/[a-z]+;base64,(.*)$/is.exec(url);
  if (data) {
    bytes = Buffer.from(data[1]!, 'base64');
  } else {
    let link: URL;
    try {
      link = new URL(url);
    } catch {
      return 'unreadable';
    }
    if (!LOOPBACK_HOSTS.has(link.hostname)) return null;
    try {
      // No redirects (one could lead the sim off this machine) and no more than a provider would take.
      const res = await fetch(link, { signal: AbortSignal.timeout(5_000), redirect: 'error' });
      if (!res.ok || Number(res.headers.get('content-length') ?? 0) > MAX_IMAGE_BYTES) return 'unreadable';
      const read = await readCapped(res, MAX_IMAGE_BYTES);
      if (!read) return 'unreadable';
      bytes = read;
    } catch {
      return 'unreadable';
    }
  }
  const image = sniffImage(bytes);
  return image ? { width: image.width, height: image.height } : 'unreadable';
}

/** The body, or null once it passes `max` bytes (read no further). */
async function readCapped(res: Response, max: number): Promise<Buffer | null> {
  if (!res.body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    total += chunk.length;
    if (total > max) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
