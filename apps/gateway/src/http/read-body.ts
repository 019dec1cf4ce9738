import type { Request } from 'express';
import { ApiException, invalidRequest } from '../errors/api-exception';
import { assertStorableText } from './storable-text';

const tooLarge = (limit: number) =>
  new ApiException('payload_too_large', `The request body must be at most ${limit} bytes.`, { headers: { Connection: 'close' } });

const DRAIN_AT_MOST = 4;

/** Reads the raw request body, refusing (413) as soon as it passes `limit` bytes. */
export function readBody(req: Request, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    if (declared > DRAIN_AT_MOST * limit) return Promise.reject(tooLarge(limit));
    // Answer once the client has sent what it declared (dropped unread): closing a socket with
    // bytes still arriving makes the kernel reset it, and the reset can destroy the 413 before
    // the client reads it. A body far over the limit is not worth that; a stalled one gets 5 s.
    return new Promise((_, reject) => {
      const done = () => {
        clearTimeout(timer);
        reject(tooLarge(limit));
      };
      const timer = setTimeout(done, 5_000);
      req.once('end', done).once('error', done).once('close', done).resume();
    });
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.resume(); // discard the rest; the connection closes after the 413
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(Object.assign(invalidRequest('The request body could not be read.'), { cause: err }));
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/** The media type of the request without parameters, lower-cased ('' when absent). */
export const mediaType = (req: Request) => (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();

/**
 * Reads and parses a JSON body: 400 for another content type, an empty body, malformed JSON or text
 * PostgreSQL cannot store; 413 over `limit`.
 */
export async function readJsonBody(req: Request, limit: number): Promise<unknown> {
  const type = mediaType(req);
  if (type !== 'application/json' && !type.endsWith('+json')) throw invalidRequest('Content-Type must be application/json.');
  const raw = await readBody(req, limit);
  if (raw.length === 0) throw invalidRequest('The request body is empty.');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw invalidRequest('The request body is not valid JSON.');
  }
  assertStorableText(parsed);
  return parsed;
}
