import type { IncomingHttpHeaders } from 'node:http';
import type { ProviderCallbackCommand } from '@reelay/contracts';

const DROPPED = new Set(['cookie']);

export function toCallbackCommand(provider: string, headers: IncomingHttpHeaders, query: string, body: Buffer, correlationId: string): ProviderCallbackCommand {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || DROPPED.has(name.toLowerCase())) continue;
    flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return { provider, headers: flat, bodyBase64: body.toString('base64'), query, receivedAt: new Date().toISOString(), correlationId };
}
