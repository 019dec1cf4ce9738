import http from 'node:http';
import https from 'node:https';
import type { OutputDownload } from '../adapter/provider-adapter';

export interface PlainResponse {
  status: number;
  ok: boolean;
  headers: Headers;
  text: string;
}

/** Larger JSON answers than this are refused: no provider's API answer comes near it. */
export const MAX_JSON_RESPONSE_BYTES = 16 * 1024 * 1024;

// One keep-alive pool per scheme for the whole process, as fetch's global dispatcher had.
const agents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) };

/**
 * One API call with Node's http client, body read whole as text. Why not fetch: at thousands of
 * status checks a second, fetch (web streams, Request/Response objects) cost about five times the
 * CPU of http.request per call and was most of the poller's CPU (docs/benchmarks.md).
 * Failures reject as the errors http.request gives (ECONNREFUSED, AbortError on `signal`, ...).
 */
export async function sendPlain(url: string, init: { method: string; headers: Record<string, string>; body?: string }, signal: AbortSignal): Promise<PlainResponse> {
  const res = await sendStreaming(url, init, signal);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.body.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_JSON_RESPONSE_BYTES) {
        res.body.destroy(new Error(`response larger than ${MAX_JSON_RESPONSE_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    res.body.on('error', reject);
    res.body.on('end', () => resolve({ status: res.status, ok: res.status >= 200 && res.status < 300, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
  });
}

/**
 * One call whose answer is handed over as soon as its head arrives (output downloads: the poller
 * copies them to storage as they stream). Same client as `sendPlain`, for the same reason: fetch's
 * web streams cost several times the CPU per chunk of a Node stream. `signal` still aborts the
 * body while the caller reads it; a body cut off before its end fails the read.
 */
export function sendStreaming(url: string, init: { method: string; headers: Record<string, string>; body?: string }, signal: AbortSignal): Promise<OutputDownload> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const agent = agents[target.protocol as keyof typeof agents];
    if (!agent) {
      reject(new TypeError(`unsupported protocol ${target.protocol}`));
      return;
    }
    const client = target.protocol === 'https:' ? https : http;
    const headers = init.body === undefined ? init.headers : { ...init.headers, 'content-length': String(Buffer.byteLength(init.body)) };
    const req = client.request(target, { method: init.method, headers, agent, signal }, (res) => {
      res.on('aborted', () => res.destroy(new Error('the response was cut off')));
      resolve({ status: res.statusCode ?? 0, headers: toHeaders(res.rawHeaders), body: res });
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

function toHeaders(raw: string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  return headers;
}
