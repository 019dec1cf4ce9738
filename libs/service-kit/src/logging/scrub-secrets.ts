/**
 * Last line of defence for logs: credentials that end up inside strings (an error message quoting
 * a URL, a header dump) are masked in the serialized line. Field names (apiKey, authorization...)
 * are censored earlier by pino's redact paths.
 */
const PATTERNS: [RegExp, string][] = [
  // Query parameters that carry keys or signatures (Google's ?key=, presigned URLs...).
  // Any parameter whose name says signature, credential, token or secret covers the presigned URLs
  // of S3 (X-Amz-Security-Token), BytePlus TOS (X-Tos-*), Google (X-Goog-Credential) and the like.
  [/([?&](?:key|api[_-]?key|apikey|auth|sig|[a-z0-9_-]*(?:signature|credential|token|secret)[a-z0-9_-]*)=)[^&#\s"\\]+/gi, '$1[redacted]'],
  // Webhook URLs whose path is the secret (Slack, Discord).
  [/(hooks\.slack\.com\/(?:services|workflows|triggers)\/)[^\s"\\?#]+/gi, '$1[redacted]'],
  [/(discord(?:app)?\.com\/api\/webhooks\/\d+\/)[^\s"\\?#/]+/gi, '$1[redacted]'],
  // Authorization header values.
  [/\b(Bearer|Basic|Token|Key)\s+[A-Za-z0-9._~+/=:-]{8,}/g, '$1 [redacted]'],
  // Provider key formats: OpenAI-style sk-..., Replicate r8_..., Google AIza..., reelay's own rly_...;
  // Webhook signing secrets (ours and the providers' callbacks) are whsec_...
  [/\b(?:sk-[A-Za-z0-9_-]{16,}|r8_[A-Za-z0-9]{16,}|AIza[0-9A-Za-z_-]{30,}|rly_[0-9A-Za-z]{32}|whsec_[A-Za-z0-9+/=_-]{16,})/g, '[redacted]'],
  // Credentials in URLs: scheme://user:password@host
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@"]+:)[^@\s"/]+@/gi, '$1[redacted]@'],
];

export function scrubSecrets(text: string): string {
  let out = text;
  for (const [re, by] of PATTERNS) out = out.replace(re, by);
  return out;
}
