import type { IncomingHttpHeaders } from 'node:http';

/** What goes to `<prefix>.cmd.provider-callback` (polling's ProviderCallbackCommand). TODO(contracts): one zod schema for both. */
export interface ProviderCallbackCommand {
  provider: string;
  /** As received, with lower-cased names; cookies are dropped. */
  headers: Record<string, string>;
  /** The raw body, base64, exactly as received (signatures are computed over these bytes). */
  bodyBase64: string;
  /** The query string without '?' (some providers put a token in the callback URL). */
  query: string;
  receivedAt: string;
  correlationId: string;
}

const DROPPED = new Set(['cookie']);

export function toCallbackCommand(provider: string, headers: IncomingHttpHeaders, query: string, body: Buffer, correlationId: string): ProviderCallbackCommand {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || DROPPED.has(name.toLowerCase())) continue;
    flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return { provider, headers: flat, bodyBase64: body.toString('base64'), query, receivedAt: new Date().toISOString(), correlationId };
}
