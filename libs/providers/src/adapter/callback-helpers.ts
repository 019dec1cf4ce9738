export type HeaderBag = Record<string, string | string[] | undefined>;

/** Case-insensitive single header read (first value when repeated). */
export function headerValue(headers: HeaderBag, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() !== lower) continue;
    return Array.isArray(v) ? v[0] : v;
  }
  return undefined;
}

/** Parses a JSON callback body; null when it is not a JSON object. */
export function parseJsonObject(rawBody: string | Buffer): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** An unsigned callback naming its task in `id`: only a hint to re-check with `check()`. */
export function unsignedCallbackById(rawBody: string | Buffer): { providerTaskId: string; signed: false } | null {
  const id = parseJsonObject(rawBody)?.id;
  return typeof id === 'string' && id.length > 0 ? { providerTaskId: id, signed: false } : null;
}

/** A callback URL with one more query parameter, for what a provider's callback does not name itself. */
export function withQueryParam(callbackUrl: string, name: string, value: string): string {
  const u = new URL(callbackUrl);
  u.searchParams.set(name, value);
  return u.toString();
}
