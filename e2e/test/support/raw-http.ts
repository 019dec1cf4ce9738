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
      const text = Buffer.concat(chunks).toString('latin1');
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      const split = text.indexOf('\r\n\r\n');
      resolve({ status: match ? Number(match[1]) : 0, head: split >= 0 ? text.slice(0, split) : text, body: split >= 0 ? text.slice(split + 4) : '' });
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
