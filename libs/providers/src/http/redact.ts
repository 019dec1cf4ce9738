const PATTERNS: RegExp[] = [
  /Bearer\s+[A-Za-z0-9._~+/=-]+/gi,
  /\b(sk|key|whsec|rw|luma|r8)[-_][A-Za-z0-9._-]{8,}/gi,
];

/** Strips anything that looks like a credential from operator detail text, and bounds its length. */
export function redact(text: string, secrets: readonly string[] = [], maxLength = 500): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('[redacted]');
  for (const p of PATTERNS) out = out.replace(p, '[redacted]');
  return out.length > maxLength ? `${out.slice(0, maxLength)}…` : out;
}
