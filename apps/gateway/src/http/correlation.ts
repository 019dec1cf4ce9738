import { randomUUID } from 'node:crypto';
import type { Request } from 'express';

const assigned = new WeakMap<Request, string>();

/**
 * The request's correlation id: the caller's X-Request-Id when it is a sane token, else a fresh
 * id chosen once, so the X-Request-Id answered and the id recorded with the job are the same.
 */
export function correlationIdOf(req: Request): string {
  let id = assigned.get(req);
  if (id === undefined) {
    const given = req.headers['x-request-id'];
    id = typeof given === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
    assigned.set(req, id);
  }
  return id;
}
