import { connect } from 'node:net';

export interface RawResponse {
  /** 0 when the server closed the connection without an HTTP answer. */
  status: number;
  head: string;
  body: string;
}

export interface RawRequestOptions {
  /** Bytes written per chunk of the body when dribbling it (default: all at once). */
  chunkBytes?: number;
  /** Pause between body chunks. */
  chunkDelayMs?: number;
  timeoutMs?: number;
}

/**
 * One HTTP/1.1 exchange over a bare socket, so a test can send what fetch and node:http refuse to
 * send: invalid header names, duplicate headers, mismatched lengths, a body written a few bytes at a time.
 * `head` is the request line and header lines without the final blank line; `Connection: close`
 * is added, so the answer ends with the connection.
 */
export function rawRequest(port: number, head: string, body: Buffer | string = '', opts: RawRequestOptions = {}): Promise<RawResponse> {
  const payload = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${opts.timeoutMs ?? 20_000} ms to ${head.split('\r\n')[0].slice(0, 120)}`));
    }, opts.timeoutMs ?? 20_000);
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', () => undefined); // a reset after the answer is fine; the close handler decides
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseAnswer(Buffer.concat(chunks).toString('latin1')));
    });
    socket.on('connect', async () => {
      socket.write(Buffer.from(`${head}\r\nConnection: close\r\n\r\n`, 'latin1'));
      const step = opts.chunkBytes ?? payload.length;
      for (let i = 0; i < payload.length && !socket.destroyed; i += step) {
        socket.write(payload.subarray(i, i + step));
        if (opts.chunkDelayMs) await new Promise((r) => setTimeout(r, opts.chunkDelayMs));
      }
    });
  });
}

/**
 * The final answer in what the server sent: interim 1xx answers (the `100 Continue` Node sends
 * for `Expect: 100-continue`) are skipped, and a chunked body is decoded.
 */
function parseAnswer(text: string): RawResponse {
  let rest = text;
  for (;;) {
    const match = /^HTTP\/1\.[01] (\d{3})/.exec(rest);
    const split = rest.indexOf('\r\n\r\n');
    if (!match || split < 0) return { status: match ? Number(match[1]) : 0, head: rest, body: '' };
    const status = Number(match[1]);
    const head = rest.slice(0, split);
    const body = rest.slice(split + 4);
    if (status >= 100 && status < 200 && status !== 101) {
      rest = body;
      continue;
    }
    return { status, head, body: /^transfer-encoding:\s*chunked\s*$/im.test(head) ? dechunk(body) : body };
  }
}

function dechunk(body: string): string {
  let out = '';
  let at = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', at);
    const size = eol < 0 ? NaN : parseInt(body.slice(at, eol), 16);
    if (!(size > 0)) return out;
    out += body.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}
