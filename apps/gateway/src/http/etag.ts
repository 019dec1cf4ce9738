/** A job's entity tag: its public version, which changes with everything a client can see. */
export const jobETag = (version: number) => `"${version}"`;

/**
 * If-None-Match as RFC 9110 §13.1.2 reads it: `*`, or a list of tags compared weakly (a `W/`
 * prefix is ignored on either side).
 */
export function noneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => opaque(tag) === opaque(etag));
}
