const PATTERNS: RegExp[] = [
  /Bearer\s+[A-Za-z0-9._~+/=-]+/gi,
  /\b(sk|key|whsec|rw|luma|r8)[-_][A-Za-z0-9._-]{8,}/gi,
];

/**
 * A URL's query string. Provider messages quote the URLs they were given or fetched (a user's
 * presigned image, a signed output), whose queries carry tokens; an operator needs the address only.
 */
const URL_QUERY = /(\bhttps?:\/\/[^\s?#"'<>]+)\?[^\s#"'<>]*/gi;

/** Strips anything that looks like a credential from operator detail text, and bounds its length. */
export function redact(text: string, secrets: readonly string[] = [], maxLength = 500): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('[redacted]');
  for (const p of PATTERNS) out = out.replace(p, '[redacted]');
  out = out.replace(URL_QUERY, '$1?[query removed]');
  return out.length > maxLength ? `${out.slice(0, maxLength)}…` : out;
}
