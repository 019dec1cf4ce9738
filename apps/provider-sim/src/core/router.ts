import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, type ParsedBody } from './body';

export interface SimRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: ParsedBody;
  /** Case-insensitive header read. */
  header(name: string): string | undefined;
}

export interface SimReply {
  status: number;
  headers?: Record<string, string>;
  /** JSON-serialized unless a Buffer/string is given. `undefined` sends no body. */
  body?: unknown;
}

export type SimHandler = (req: SimRequest) => Promise<SimReply> | SimReply;

interface Route {
  method: string;
  regex: RegExp;
  keys: string[];
  handler: SimHandler;
}

/**
 * A minimal method+path router over node:http. Patterns use `:name` segments; a `:name*` tail
 * matches the rest of the path (slashes included). Colons inside a literal segment (Google's
 * `model:predictLongRunning`) are literal when not at a segment start.
 */
export class SimRouter {
  private readonly routes: Route[] = [];

  on(method: string, pattern: string, handler: SimHandler): this {
    const keys: string[] = [];
    const source = pattern
      .split('/')
      .map((seg) => {
        const m = /^:([A-Za-z_][A-Za-z0-9_]*)(\*)?(.*)$/.exec(seg);
        if (!m) return escapeRegex(seg);
        keys.push(m[1]);
        return (m[2] ? '(.+)' : '([^/]+?)') + escapeRegex(m[3]);
      })
      .join('/');
    this.routes.push({ method: method.toUpperCase(), regex: new RegExp(`^${source}/?$`), keys, handler });
    return this;
  }

  get(p: string, h: SimHandler): this {
    return this.on('GET', p, h);
  }
  post(p: string, h: SimHandler): this {
    return this.on('POST', p, h);
  }
  delete(p: string, h: SimHandler): this {
    return this.on('DELETE', p, h);
  }
  put(p: string, h: SimHandler): this {
    return this.on('PUT', p, h);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim.local');
    const method = (req.method ?? 'GET').toUpperCase();
    let pathMatched = false;
    for (const route of this.routes) {
      const m = route.regex.exec(url.pathname);
      if (!m) continue;
      pathMatched = true;
      if (route.method !== method) continue;
      const params: Record<string, string> = {};
      route.keys.forEach((k, i) => (params[k] = decodeURIComponent(m[i + 1])));
      const body = await readBody(req);
      const simReq: SimRequest = {
        method,
        path: url.pathname,
        params,
        query: url.searchParams,
        headers: req.headers,
        body,
        header: (name) => {
          const v = req.headers[name.toLowerCase()];
          return Array.isArray(v) ? v[0] : v;
        },
      };
      let reply: SimReply;
      try {
        reply = await route.handler(simReq);
      } catch (e) {
        reply = { status: 500, body: { error: { message: `sim handler crashed: ${(e as Error).message}` } } };
      }
      send(res, reply);
      return;
    }
    send(res, { status: pathMatched ? 405 : 404, body: { error: pathMatched ? 'method not allowed' : 'not found', path: url.pathname } });
  }
}

export function send(res: ServerResponse, reply: SimReply): void {
  const headers: Record<string, string> = { ...reply.headers };
  let payload: Buffer | string | undefined;
  if (reply.body === undefined) payload = undefined;
  else if (Buffer.isBuffer(reply.body) || typeof reply.body === 'string') payload = reply.body;
  else {
    payload = JSON.stringify(reply.body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  }
  if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));
  res.writeHead(reply.status, headers);
  res.end(payload);
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
