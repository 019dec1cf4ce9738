/**
 * Last line of defence for logs: credentials that end up inside strings (an error message quoting
 * a URL, a header dump) are masked in the serialized line. Field names (apiKey, authorization...)
 * are censored earlier by pino's redact paths.
 */
const PATTERNS: [RegExp, string][] = [
  // Query parameters that carry keys or signatures (Google's ?key=, presigned URLs...).
  [/([?&](?:key|api[_-]?key|apikey|access[_-]?token|token|auth|sig|signature|x-amz-signature|x-amz-credential|x-goog-signature)=)[^&#\s"\\]+/gi, '$1[redacted]'],
  // Authorization header values.
  [/\b(Bearer|Basic|Token|Key)\s+[A-Za-z0-9._~+/=:-]{8,}/g, '$1 [redacted]'],
  // Provider key formats: OpenAI-style sk-..., Replicate r8_..., Google AIza..., reelay's own rly_...
  [/\b(?:sk-[A-Za-z0-9_-]{16,}|r8_[A-Za-z0-9]{16,}|AIza[0-9A-Za-z_-]{30,}|rly_[0-9A-Za-z]{32})/g, '[redacted]'],
  // Credentials in URLs: scheme://user:password@host
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@"]+:)[^@\s"/]+@/gi, '$1[redacted]@'],
];

export function scrubSecrets(text: string): string {
  let out = text;
  for (const [re, by] of PATTERNS) out = out.replace(re, by);
  return out;
}
