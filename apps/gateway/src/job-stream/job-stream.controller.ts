import { Controller, Get, Inject, Param, Req, Res } from '@nestjs/common';
import { isTerminal } from '@reelay/contracts';
import type { Request, Response } from 'express';
import { CurrentUser, JobTokenAccepted, type AuthenticatedRequest } from '../auth/current-user';
import { ApiException } from '../errors/api-exception';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';
import { JobReader } from '../jobs/job-reader';
import { JobStreamRegistry } from './job-stream-registry';
import { gatewayJobStream } from './job-stream-session';
import { parseLastEventId, retryHint } from './sse-format';
import { forEndUser } from './end-user-job';

const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
};

@Controller('v1/jobs')
export class JobStreamController {
  constructor(
    @Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps,
    private readonly jobs: JobReader,
    private readonly registry: JobStreamRegistry,
  ) {}

  @Get(':id/stream')
  @JobTokenAccepted()
  async stream(@CurrentUser() userId: string, @Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const { state, version } = await this.jobs.loadOwned(id, userId); // 404 before any stream starts
    // Gone while the job was read: its 'close' has fired already, so nothing would stop the session.
    if (res.destroyed || req.socket.destroyed) return;
    const claimed = parseLastEventId(req.headers['last-event-id']);
    if (isTerminal(state.status) && claimed >= version) {
      // Nothing will follow the last event it saw: 204 is what makes an EventSource stop reconnecting.
      res.status(204).end();
      return;
    }
    if (req.method === 'HEAD') {
      // Express runs GET handlers for HEAD: no body can be sent, so no stream is held open for it.
      res.status(200).set(SSE_HEADERS).end();
      return;
    }
    if (this.registry.isClosing) {
      // Shutting down: the stream ends at once, as at any stream's end, and the client reconnects
      // (Last-Event-ID) to another instance. A 503 would stop an EventSource for good.
      res.status(200).set(SSE_HEADERS).write(retryHint(2000));
      res.end();
      return;
    }
    const { config } = this.deps;
    // An unfinished job's id past its version was never sent for it: waiting for that version would
    // hide every event up to it, the terminal one included, so the stream starts over (ids let
    // clients skip repeats).
    const after = claimed > version ? 0 : claimed;
    const shown = (req as AuthenticatedRequest).viaJobToken ? forEndUser : undefined;
    const session = gatewayJobStream(this.deps, { jobId: id, after, write: (chunk) => res.write(chunk), end: () => res.end(), shown });
    // Streams opened with a job token (end users' browsers) are counted per job, and all of a
    // user's together up to ten times the limit, apart from the key holder's own: viewers cannot
    // use up the limit the user's own streams need. (User ids hold no ':'.)
    const max = config.SSE_MAX_STREAMS_PER_USER;
    const counts: [string, number][] = (req as AuthenticatedRequest).viaJobToken ? [[`token:${id}`, max], [`tokens:${userId}`, 10 * max]] : [[userId, max]];
    const forgets: (() => void)[] = [];
    for (const [key, limit] of counts) {
      const forget = this.registry.add(key, session, limit);
      if (!forget) {
        for (const f of forgets) f();
        const too = (req as AuthenticatedRequest).viaJobToken ? 'Too many streams of this job, or of this account\'s jobs, are open through job tokens' : `You have ${max} job streams open`;
        throw new ApiException('rate_limited', `${too} on this server; close one and try again.`, { headers: { 'Retry-After': '5' } });
      }
      forgets.push(forget);
    }
    const forget = () => forgets.forEach((f) => f());
    // Authentication happens when a stream opens: it ends while its credential is still good, and the
    // reconnect is checked again (a revoked key, an expired token: 401, which stops an EventSource).
    const expires = (req as AuthenticatedRequest).credentialExpiresAt?.getTime() ?? Infinity;
    const lifetime = setTimeout(() => session.close(), Math.max(0, Math.min(config.SSE_MAX_STREAM_MS, expires - Date.now())));
    res.on('close', () => {
      clearTimeout(lifetime);
      session.close(false);
      forget();
    });
    res.status(200).set(SSE_HEADERS);
    res.flushHeaders();
    res.write(retryHint(2000));
    session.start();
  }
}
