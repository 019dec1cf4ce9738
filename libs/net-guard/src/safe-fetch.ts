import http, { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { checkUrlFrom, refuse, type CheckedUrl, type CheckUrlOptions, type UrlOrigin } from './check-url';
import { UnsafeUrlError } from './unsafe-url-error';

export interface SafeFetchOptions extends CheckUrlOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Largest response body accepted, in bytes; more (declared or streamed) fails with `too_large`. */
  maxBytes: number;
  /** Deadline for the whole fetch: every lookup, redirect hop and body byte. Fails with `timeout`. */
  timeoutMs: number;
  /** Optional per-hop deadline for the response headers to arrive. */
  headersTimeoutMs?: number;
  /** Redirects followed (default 3); one more fails with `too_many_redirects`. */
  maxRedirects?: number;
  /** Cancels the fetch; fails with `aborted`. */
  signal?: AbortSignal;
  /**
   * Resolve with the status and headers alone, closing the connection without reading the body
   * (`body` is empty): for callers that act on the status only, whose peer's body may be large or slow.
   */
  statusOnly?: boolean;
}

export interface SafeFetchResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The URL of the last hop, after redirects. */
  finalUrl: string;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const CROSS_ORIGIN_STRIPPED = ['authorization', 'proxy-authorization', 'cookie'];

/**
 * Fetches a user-supplied URL without opening an SSRF hole. Every hop (the URL and each redirect)
 * goes through {@link checkUrl}, and the TCP connection is made to the address that was checked
 * (a pinned `lookup`), so a DNS answer that changes between check and connect cannot redirect the
 * request (DNS rebinding). Connections are never pooled (`agent: false`), so no socket opened for
 * another address is reused.
 */
export async function safeFetch(input: string | URL, opts: SafeFetchOptions): Promise<SafeFetchResponse> {
  if (!(opts.maxBytes >= 0) || !(opts.timeoutMs > 0)) throw new TypeError('safeFetch needs maxBytes >= 0 and timeoutMs > 0');
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(refuse('timeout', 'input')), opts.timeoutMs);
  const onCallerAbort = () => controller.abort(refuse('aborted', 'input'));
  if (opts.signal?.aborted) onCallerAbort();
  else opts.signal?.addEventListener('abort', onCallerAbort, { once: true });
  try {
    return await follow(input, opts, controller.signal);
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onCallerAbort);
  }
}

async function follow(input: string | URL, opts: SafeFetchOptions, signal: AbortSignal): Promise<SafeFetchResponse> {
  const maxRedirects = opts.maxRedirects ?? 3;
  let target: string | URL = input;
  let method = (opts.method ?? 'GET').toUpperCase();
  let body = opts.body;
  const headers: Record<string, string> = Object.fromEntries(
    Object.entries(opts.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
  );

  for (let hop = 0; ; hop++) {
    const origin: UrlOrigin = hop === 0 ? 'input' : 'redirect';
    const checked = await untilAborted(checkUrlFrom(target, opts, origin), signal);
    const res = await send(checked, method, headers, body, opts.headersTimeoutMs, signal, origin);
    const status = res.statusCode ?? 0;
    const location = res.headers.location;

    if (!REDIRECT_STATUSES.has(status) || location === undefined) {
      if (opts.statusOnly) {
        res.destroy();
        return { status, headers: res.headers, body: Buffer.alloc(0), finalUrl: checked.url.href };
      }
      const data = await readBody(res, opts.maxBytes, signal, origin);
      return { status, headers: res.headers, body: data, finalUrl: checked.url.href };
    }

    res.destroy();
    if (hop >= maxRedirects) throw Object.assign(refuse('too_many_redirects', 'redirect'), { httpStatus: status });
    let next: URL;
    try {
      next = new URL(location, checked.url);
    } catch {
      throw refuse('invalid_redirect', 'redirect');
    }
    if (next.origin !== checked.url.origin) for (const name of CROSS_ORIGIN_STRIPPED) delete headers[name];
    // Same method rewriting as the Fetch standard: 303 always, 301/302 for POST become a bodiless GET.
    if ((status === 303 && method !== 'HEAD') || ((status === 301 || status === 302) && method === 'POST')) {
      method = 'GET';
      body = undefined;
      delete headers['content-type'];
    }
    target = next;
  }
}

function send(
  checked: CheckedUrl,
  method: string,
  headers: Record<string, string>,
  body: string | Uint8Array | undefined,
  headersTimeoutMs: number | undefined,
  signal: AbortSignal,
  origin: UrlOrigin,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const { url } = checked;
    const pinned: LookupFunction = (_hostname, options, callback) => {
      if (options.all) callback(null, checked.addresses.map(({ address, family }) => ({ address, family })));
      else callback(null, checked.address, checked.family);
    };
    const payload = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
    const outgoing: OutgoingHttpHeaders = { ...headers };
    delete outgoing['content-length'];
    if (payload) outgoing['content-length'] = String(payload.length);

    const request = (url.protocol === 'https:' ? https : http).request({
      protocol: url.protocol,
      hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
      port: url.port === '' ? undefined : Number(url.port),
      path: `${url.pathname}${url.search}`,
      method,
      headers: outgoing,
      agent: false,
      lookup: pinned,
    });

    let settled = false;
    const headersTimer =
      headersTimeoutMs === undefined ? undefined : setTimeout(() => request.destroy(refuse('timeout', origin)), headersTimeoutMs);
    const onAbort = () => request.destroy(signal.reason as Error);
    const settle = () => {
      settled = true;
      clearTimeout(headersTimer);
      signal.removeEventListener('abort', onAbort);
    };
    signal.addEventListener('abort', onAbort, { once: true });

    request.on('response', (res) => {
      if (settled) return void res.destroy();
      settle();
      resolve(res);
    });
    request.on('error', (error) => {
      if (settled) return;
      settle();
      reject(error instanceof UnsafeUrlError ? error : refuse('connection_failed', origin));
    });
    request.end(payload);
  });
}

function readBody(res: IncomingMessage, maxBytes: number, signal: AbortSignal, origin: UrlOrigin): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      res.destroy();
      return reject(refuse('too_large', origin));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (error: unknown, data?: Buffer) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (error === undefined) resolve(data as Buffer);
      else {
        res.destroy();
        reject(error instanceof UnsafeUrlError ? error : refuse('connection_failed', origin));
      }
    };
    const onAbort = () => finish(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });

    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) return finish(refuse('too_large', origin));
      chunks.push(chunk);
    });
    res.on('end', () => finish(undefined, Buffer.concat(chunks, size)));
    res.on('error', (error) => finish(error));
    res.on('close', () => {
      if (!res.complete) finish(refuse('connection_failed', origin));
    });
  });
}

function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
