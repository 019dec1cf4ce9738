import { randomUUID } from 'node:crypto';
import type { Request } from 'express';

/** The caller's X-Request-Id when it is a sane token, else a fresh id. */
export function correlationIdOf(req: Request): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
}
