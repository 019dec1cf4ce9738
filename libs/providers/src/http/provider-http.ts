import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { ProviderError } from '../adapter/provider-error';
import type { OutputDownload, ProviderCallContext } from '../adapter/provider-adapter';
import { parseRetryAfter } from './retry-after';
import { sendPlain, sendStreaming, type PlainResponse } from './node-http-send';
import { redact } from './redact';

export interface HttpErrorInfo {
  status: number;
  headers: Headers;
  /** Parsed JSON body, or the raw text when it is not JSON. */
  body: unknown;
  method: string;
  path: string;
  retryAfterMs?: number;
}

/** Lets an adapter turn a provider's error body into a precise ProviderError; return undefined for the default. */
export type HttpErrorMapper = (info: HttpErrorInfo) => ProviderError | undefined;

export interface ProviderHttpOptions {
  provider: string;
  baseUrl: string;
  headers: Record<string, string>;
  timeoutMs?: number;
  /** Replaces Node's http client for API calls and fetch for downloads (tests, custom transports). */
  fetch?: typeof fetch;
  mapError?: HttpErrorMapper;
  /** Strings to scrub from operator details (the API key). */
  secrets?: string[];
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'DELETE' | 'PUT';
  path: string;
  query?: Record<string, string | number | readonly (string | number)[] | undefined>;
  json?: unknown;
  headers?: Record<string, string>;
}

export interface HttpResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** As fetch's limit of 20, but output links redirect once or twice: more is a loop. */
const MAX_REDIRECTS = 5;
/** identity: the file as stored, so its length and hash are the provider's (fetch asked for gzip/br and decoded). */
const DOWNLOAD_HEADERS = { accept: '*/*', 'accept-encoding': 'identity' };

interface Deadline {
  signal: AbortSignal;
  timeoutMs: number;
}

/**
 * Small fetch wrapper shared by adapters: base URL + auth headers, per-call timeout, JSON in/out,
 * and every failure (HTTP status, network error, timeout) thrown as a ProviderError.
 */
export class ProviderHttp {
  constructor(private readonly opts: ProviderHttpOptions) {}

  get baseUrl(): string {
    return this.opts.baseUrl;
  }

  url(path: string, query?: HttpRequest['query']): string {
    const base = this.opts.baseUrl.replace(/\/+$/, '');
    const u = new URL(base + (path.startsWith('/') ? path : `/${path}`));
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v === undefined) continue;
      if (Array.isArray(v)) for (const item of v) u.searchParams.append(k, String(item));
      else u.searchParams.set(k, String(v));
    }
    return u.toString();
  }

  async request<T = unknown>(req: HttpRequest, ctx: ProviderCallContext = {}): Promise<HttpResponse<T>> {
    const headers: Record<string, string> = { accept: 'application/json', ...this.opts.headers, ...req.headers };
    let body: string | undefined;
    if (req.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(req.json);
    }
    const deadline = this.deadline(ctx);
    try {
      const res = await this.send(this.url(req.path, req.query), { method: req.method, headers, body }, req, ctx, deadline);
      const parsed = parseBody(res.text);
      if (!res.ok) throw this.toError(res, parsed, req);
      return { status: res.status, headers: res.headers, body: parsed as T };
    } finally {
      deadline.clear();
    }
  }

  /**
   * GET of an output, handed back once its headers arrive with the body still to stream; a non-2xx
   * status is thrown as a ProviderError. Redirects are followed (as fetch did): output links are
   * often a provider URL that answers with the file's storage location, and the provider's key is
   * not sent on to another origin. The deadline covers every hop and the body, and is cleared when
   * the body is closed (read to its end, failed or destroyed).
   */
  async download(url: string, ctx: ProviderCallContext = {}, withAuth = true): Promise<OutputDownload> {
    const deadline = this.deadline(ctx);
    try {
      let target = new URL(url);
      let auth = withAuth;
      for (let hop = 0; ; hop++) {
        const headers = auth ? { ...this.opts.headers, ...DOWNLOAD_HEADERS } : DOWNLOAD_HEADERS;
        const req: HttpRequest = { method: 'GET', path: safePath(target.href) };
        const res = await this.withDeadline(req, ctx, deadline, (signal) => this.openStream(target.href, { method: 'GET', headers }, signal));
        const location = REDIRECT_STATUSES.has(res.status) ? res.headers.get('location') : null;
        if (location && hop < MAX_REDIRECTS) {
          res.body.destroy();
          const next = new URL(location, target);
          if (next.origin !== target.origin) auth = false;
          target = next;
          continue;
        }
        if (res.status >= 200 && res.status < 300) {
          // Past the headers the abort only cuts the connection ("aborted"): say why to the reader.
          const timedOut = () => res.body.destroy(new ProviderError('timeout', `${this.opts.provider} GET ${req.path} timed out after ${deadline.timeoutMs} ms`));
          deadline.signal.addEventListener('abort', timedOut, { once: true });
          res.body.once('close', () => {
            deadline.clear();
            deadline.signal.removeEventListener('abort', timedOut);
          });
          return res;
        }
        // An error answer: its body is read (or dropped) below, and the catch ends the deadline.
        const parsed = parseBody(await readText(res.body));
        if ([403, 404, 410].includes(res.status)) {
          throw new ProviderError('output_missing', this.detail(`output download → HTTP ${res.status}`, parsed), {
            httpStatus: res.status,
          });
        }
        throw this.toError(res, parsed, req);
      }
    } catch (err) {
      deadline.clear();
      throw err;
    }
  }

  /**
   * The whole call's deadline, with a timer that is cleared when the call is done: an
   * AbortSignal.timeout lives until it fires and keeps the finished call's objects reachable that
   * long (at thousands of status checks a second that was most of the poller's heap).
   */
  private deadline(ctx: ProviderCallContext): { signal: AbortSignal; timeoutMs: number; clear: () => void } {
    const timeoutMs = ctx.timeoutMs ?? this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DOMException(`timed out after ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
    return { signal: controller.signal, timeoutMs, clear: () => clearTimeout(timer) };
  }

  /** An API call: Node's http client, or the injected fetch (tests, custom transports). */
  private async send(url: string, init: { method: string; headers: Record<string, string>; body?: string }, req: HttpRequest, ctx: ProviderCallContext, deadline: Deadline): Promise<PlainResponse> {
    if (this.opts.fetch) {
      const doFetch = this.opts.fetch;
      const res = await this.withDeadline(req, ctx, deadline, (signal) => doFetch(url, { ...init, signal }));
      return { status: res.status, ok: res.ok, headers: res.headers, text: await res.text() };
    }
    return this.withDeadline(req, ctx, deadline, (signal) => sendPlain(url, init, signal));
  }

  /** A streamed GET: Node's http client, or the injected fetch with its web stream turned into a Node one. */
  private async openStream(url: string, init: { method: string; headers: Record<string, string> }, signal: AbortSignal): Promise<OutputDownload> {
    if (!this.opts.fetch) return sendStreaming(url, init, signal);
    const res = await this.opts.fetch(url, { ...init, signal });
    return { status: res.status, headers: res.headers, body: res.body ? Readable.fromWeb(res.body as WebReadableStream<Uint8Array>) : Readable.from([]) };
  }

  /** Runs `call` under the deadline (and the caller's signal); failures become ProviderErrors. */
  private async withDeadline<R>(req: HttpRequest, ctx: ProviderCallContext, deadline: Deadline, call: (signal: AbortSignal) => Promise<R>): Promise<R> {
    const { timeoutMs, signal: timeout } = deadline;
    const signal = ctx.signal ? AbortSignal.any([ctx.signal, timeout]) : timeout;
    try {
      return await call(signal);
    } catch (e) {
      if (ctx.signal?.aborted) throw e;
      if (timeout.aborted) {
        throw new ProviderError('timeout', `${this.opts.provider} ${req.method} ${req.path} timed out after ${timeoutMs} ms`, {
          cause: e,
          maybeDelivered: true,
        });
      }
      const msg = e instanceof Error ? `${e.message}${e.cause instanceof Error ? ` (${e.cause.message})` : ''}` : String(e);
      throw new ProviderError('server', this.detail(`${req.method} ${req.path} network error: ${msg}`), { cause: e, maybeDelivered: !neverSent(e) });
    }
  }

  private toError(res: { status: number; headers: Headers }, body: unknown, req: HttpRequest): ProviderError {
    const retryAfterMs = parseRetryAfter(res.headers);
    const info: HttpErrorInfo = { status: res.status, headers: res.headers, body, method: req.method, path: req.path, retryAfterMs };
    const err = this.opts.mapError?.(info) ?? defaultHttpError(info, (t) => this.detail(t));
    // A gateway that timed out waiting for the provider, or lost its answer, says nothing of whether
    // the provider went on with the request: a create answered so may have made the task.
    if (req.method !== 'POST' || !ANSWER_LOST_BY_GATEWAY.has(res.status) || err.maybeDelivered) return err;
    return new ProviderError(err.kind, err.detail, { providerCode: err.providerCode, retryable: err.retryable, retryAfterMs: err.retryAfterMs, httpStatus: err.httpStatus, maybeDelivered: true });
  }

  /** Builds an operator detail string: provider name + text + a bounded, secret-free body excerpt. */
  detail(text: string, body?: unknown): string {
    const excerpt = body === undefined || body === '' ? '' : ` ${typeof body === 'string' ? body : JSON.stringify(body)}`;
    // Bounded after the secrets are taken out: a cut first could leave part of a key the provider echoed.
    const full = redact(`${this.opts.provider} ${text}${excerpt}`, this.opts.secrets ?? []);
    return full.length > DETAIL_MAX_CHARS ? `${full.slice(0, DETAIL_MAX_CHARS)}…` : full;
  }
}

/**
 * Statuses a proxy in front of a provider answers after it passed the request on: 502 (the origin's
 * answer was unusable), 504 (no answer in time), and Cloudflare's 520 (the origin answered with
 * something unexpected) and 524 (the origin took the request and never answered). Cloudflare's
 * 521–523 say the origin was never reached, so a create answered so made nothing.
 */
const ANSWER_LOST_BY_GATEWAY: ReadonlySet<number> = new Set([502, 504, 520, 524]);

/** Status-only mapping used when the adapter has nothing more specific (providers.md §10 general rules). */
export function defaultHttpError(info: HttpErrorInfo, detail: (text: string) => string): ProviderError {
  const { status, retryAfterMs } = info;
  const d = detail(`${info.method} ${info.path} → HTTP ${status}: ${bodyExcerpt(info.body)}`);
  const init = { httpStatus: status, retryAfterMs };
  if (status === 429) return new ProviderError('rate_limited', d, init);
  if (status === 408 || status === 504) return new ProviderError('timeout', d, init);
  if (status >= 500) return new ProviderError('server', d, init);
  if (status === 401 || status === 403) return new ProviderError('auth', d, init);
  if (status === 402) return new ProviderError('billing', d, init);
  if (status === 404 || status === 410) return new ProviderError('not_found', d, init);
  return new ProviderError('invalid_request', d, init);
}

/** How much of an operator detail is kept (ProviderHttp.detail cuts it there, once redacted). */
const DETAIL_MAX_CHARS = 600;

/** A provider's error body as text, for a detail; bounded there, after redaction, not here. */
export function bodyExcerpt(body: unknown): string {
  return typeof body === 'string' ? body : JSON.stringify(body ?? null);
}

function parseBody(text: string): unknown {
  if (text === '') return '';
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function safePath(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return '(invalid url)';
  }
}

/** An error answer's body, for the operator detail: its first 64 KiB, the rest dropped unread. */
async function readText(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size >= 64 * 1024) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Errors raised before a request could leave this host (no connection was made). */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ERR_INVALID_URL']);

function neverSent(e: unknown): boolean {
  const err = e as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = err?.code ?? err?.cause?.code;
  return typeof code === 'string' && NOT_SENT.has(code);
}
