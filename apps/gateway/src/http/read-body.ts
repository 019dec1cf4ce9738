import type { Request } from 'express';
import { ApiException, invalidRequest } from '../errors/api-exception';
import { assertStorableText } from './storable-text';

const tooLarge = (limit: number) =>
  new ApiException('payload_too_large', `The request body must be at most ${limit} bytes.`, { headers: { Connection: 'close' } });

/** Past this many bytes, or this long without a byte, a refused body is no longer drained. */
const DRAIN_MAX_BYTES = 64 * 1024 * 1024;
const DRAIN_IDLE_MS = 5_000;

/**
 * Refuses with 413 once the client has sent the rest of its body (read and dropped). Closing a
 * socket while bytes are still arriving makes the kernel answer with a reset, and the reset can
 * destroy the 413 before the client reads it (the lingering close of HTTP servers). A client that
 * keeps sending past DRAIN_MAX_BYTES, or stalls, is answered at once.
 */
function refuseAfterDrain(req: Request, limit: number, alreadyRead = 0): Promise<never> {
  return new Promise((_, reject) => {
    let drained = alreadyRead;
    let timer = setTimeout(() => done(), DRAIN_IDLE_MS);
    const onData = (chunk: Buffer) => {
      drained += chunk.length;
      if (drained > DRAIN_MAX_BYTES) return done();
      clearTimeout(timer);
      timer = setTimeout(() => done(), DRAIN_IDLE_MS);
    };
    const done = () => {
      clearTimeout(timer);
      req.off('data', onData).off('end', done).off('error', done).off('close', done);
      reject(tooLarge(limit));
    };
    req.on('data', onData).once('end', done).once('error', done).once('close', done);
    if (req.readableEnded) done();
  });
}

/**
 * A body that stops arriving for this long is refused: each stalled request holds a connection and
 * its handler, and Node's own limit on receiving a request is 5 minutes. Long enough for a slow
 * upload, which keeps sending.
 */
export const BODY_IDLE_MS = 20_000;

const stalled = (idleMs: number) =>
  new ApiException('invalid_request', `The request body stopped arriving: nothing came for ${Math.round(idleMs / 1000)} s.`, { headers: { Connection: 'close' } });

const tooSlow = (totalMs: number) =>
  new ApiException('invalid_request', `The request body took too long: it must arrive within ${Math.round(totalMs / 1000)} s.`, { headers: { Connection: 'close' } });

export interface ReadBodyOptions {
  /** Longest pause between two parts of the body (default BODY_IDLE_MS). */
  idleMs?: number;
  /** Longest the whole body may take; unlimited by default, since an upload may be large and slow. */
  totalMs?: number;
}

/**
 * Reads the raw request body, refusing (413) as soon as it passes `limit` bytes, and (400) once it
 * stalls for `idleMs` or is still arriving after `totalMs`.
 */
export function readBody(req: Request, limit: number, { idleMs = BODY_IDLE_MS, totalMs }: ReadBodyOptions = {}): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return refuseAfterDrain(req, limit);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let idle = setTimeout(() => onStall(), idleMs);
    const whole = totalMs === undefined ? undefined : setTimeout(() => onSlow(totalMs), totalMs);
    const onStall = () => {
      cleanup();
      reject(stalled(idleMs));
    };
    const onSlow = (ms: number) => {
      cleanup();
      reject(tooSlow(ms));
    };
    const onData = (chunk: Buffer) => {
      clearTimeout(idle);
      idle = setTimeout(() => onStall(), idleMs);
      size += chunk.length;
      if (size > limit) {
        cleanup();
        refuseAfterDrain(req, limit, size).catch(reject);
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
      clearTimeout(idle);
      clearTimeout(whole);
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
  checkJsonType(req);
  const raw = await readBody(req, limit);
  if (raw.length === 0) throw invalidRequest('The request body is empty.');
  return parseJson(raw);
}

/** As readJsonBody, for a body that may be left out: undefined when there is none (whatever the Content-Type says). */
export async function readOptionalJsonBody(req: Request, limit: number): Promise<unknown> {
  const raw = await readBody(req, limit);
  if (raw.length === 0) return undefined;
  checkJsonType(req);
  return parseJson(raw);
}

function checkJsonType(req: Request): void {
  const type = mediaType(req);
  if (type !== 'application/json' && !type.endsWith('+json')) throw invalidRequest('Content-Type must be application/json.');
}

function parseJson(raw: Buffer): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw invalidRequest('The request body is not valid JSON.');
  }
  assertStorableText(parsed);
  return parsed;
}
