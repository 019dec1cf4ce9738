import type { Request, Response } from 'express';
import type { GatewayDeps } from '../gateway-deps';
import type { JobStreamRegistry } from '../job-stream/job-stream-registry';
import { gatewayJobStream } from '../job-stream/job-stream-session';

/** The longest a read waits for its job to finish, whatever the client prefers. */
export const MAX_WAIT_SECONDS = 60;

/**
 * `Prefer: wait=N` (RFC 7240 §4.3), in seconds, capped at MAX_WAIT_SECONDS; 0 when absent or
 * unreadable (a preference the server cannot read is ignored, never an error).
 */
export function preferredWaitSeconds(header: string | string[] | undefined): number {
  for (const value of [header ?? []].flat()) {
    for (const pref of value.split(',')) {
      const match = /^\s*wait\s*=\s*"?(\d{1,6})"?\s*(?:;.*)?$/i.exec(pref);
      if (match) return Math.min(Number(match[1]), MAX_WAIT_SECONDS);
    }
  }
  return 0;
}

/**
 * Follows an unfinished job as an SSE stream does (live pushes, with re-reads of the log as the
 * source of truth) until it has finished, `seconds` have passed or the client has left. The wait
 * holds what a stream holds (a connection, a subscription, a timer), so it counts as one of the
 * user's open streams: 'busy' when they have none left here, and the read answers at once.
 */
export function waitForFinish(
  deps: GatewayDeps,
  registry: JobStreamRegistry,
  job: { id: string; userId: string; version: number },
  seconds: number,
  req: Request,
  res: Response,
): Promise<'finished' | 'timeout' | 'gone' | 'busy'> {
  return new Promise((resolve) => {
    if (registry.isClosing) return resolve('busy'); // shutting down: the read answers at once
    const session = gatewayJobStream(deps, { jobId: job.id, after: job.version, write: () => undefined, end: () => done('finished') });
    const forget = registry.add(job.userId, session, deps.config.SSE_MAX_STREAMS_PER_USER);
    if (!forget) return resolve('busy');
    const timer = setTimeout(() => done('timeout'), seconds * 1000);
    const left = () => done('gone');
    res.on('close', left);
    function done(outcome: 'finished' | 'timeout' | 'gone'): void {
      clearTimeout(timer);
      res.off('close', left);
      session.close(false);
      forget!();
      resolve(outcome);
    }
    if (res.destroyed || req.socket.destroyed) return done('gone');
    session.start();
  });
}
