import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { hashApiKey } from '@reelay/accounts';
import { ApiException } from '../errors/api-exception';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';
import { clientAddressKey } from '../rate-limit/client-address-key';
import { TokenBuckets } from '../rate-limit/token-bucket';
import { ApiKeyLookup } from './api-key-lookup';
import { type AuthenticatedRequest, FULL_SCOPE_ROUTE, JOB_TOKEN_ROUTE, PUBLIC_ROUTE, READ_KEY_ROUTE } from './current-user';
import { jobTokenSecret, verifyJobToken } from '../job-token/job-token';
import type { Response } from 'express';

const unauthorized = () =>
  new ApiException('unauthorized', 'A valid API key is required: send it as "Authorization: Bearer <key>".', {
    headers: { 'WWW-Authenticate': 'Bearer' },
  });

const READING = new Set(['GET', 'HEAD']);

const rateLimited = (message: string, retryAfterSeconds: number) => new ApiException('rate_limited', message, { headers: { 'Retry-After': String(retryAfterSeconds) } });

/**
 * Bearer API key on every /v1 route, then the key's request budget (429 + Retry-After). What has
 * no valid key (public routes, refused keys) spends its client address's budget instead.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly buckets: TokenBuckets;
  private readonly addressBuckets: TokenBuckets;
  private readonly keys: ApiKeyLookup;
  private readonly jobTokenSecret: string | null;

  constructor(
    @Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps,
    private readonly reflector: Reflector,
  ) {
    this.buckets = new TokenBuckets(deps.config.RATE_LIMIT_PER_SECOND, deps.config.RATE_LIMIT_BURST);
    this.addressBuckets = new TokenBuckets(deps.config.PUBLIC_RATE_LIMIT_PER_SECOND, deps.config.PUBLIC_RATE_LIMIT_BURST);
    this.keys = new ApiKeyLookup(deps.dataSource);
    this.jobTokenSecret = jobTokenSecret(deps.config);
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const req = ctx.switchToHttp().getRequest<AuthenticatedRequest>();
    // Express matches routes case-insensitively, so /V1/jobs reaches the /v1/jobs handler: so must this test.
    if (!/^\/v1\//i.test(req.path)) return true;
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [ctx.getHandler(), ctx.getClass()])) {
      this.takeForAddress(req);
      return true;
    }

    if (req.headers.authorization === undefined && typeof req.query.token === 'string' && this.reflector.getAllAndOverride<boolean>(JOB_TOKEN_ROUTE, [ctx.getHandler(), ctx.getClass()])) {
      // The token in the URL is the credential, so any origin may read the answer (an EventSource on
      // the client's own site), a refusal too: a page must see its 401 (get a new token) or 429.
      ctx.switchToHttp().getResponse<Response>().setHeader('Access-Control-Allow-Origin', '*');
      this.takeForAddress(req);
      const secret = this.jobTokenSecret;
      const claims = secret && typeof req.params.id === 'string' ? verifyJobToken(secret, req.params.id, req.query.token, new Date()) : null;
      if (!claims) throw new ApiException('unauthorized', 'This job token is not valid for this job, or has expired: ask for a new one (POST /v1/jobs/{id}/token).', { headers: { 'WWW-Authenticate': 'Bearer' } });
      req.userId = claims.userId;
      req.viaJobToken = true;
      req.credentialExpiresAt = claims.expiresAt;
      return true;
    }

    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    const owner = match ? await this.keys.ownerFor(match[1]) : null;
    if (!match || !owner) {
      this.takeForAddress(req);
      throw unauthorized();
    }

    const { allowed, retryAfterSeconds } = this.buckets.take(hashApiKey(match[1]));
    if (!allowed) throw rateLimited('Too many requests for this API key. Please slow down.', retryAfterSeconds);
    if (owner.scope === 'read') {
      const route = [ctx.getHandler(), ctx.getClass()];
      if (this.reflector.getAllAndOverride<boolean>(FULL_SCOPE_ROUTE, route)) {
        throw new ApiException('forbidden', 'This API key can only read: the webhook signing secret needs a key with the full scope.');
      }
      if (!READING.has(req.method) && !this.reflector.getAllAndOverride<boolean>(READ_KEY_ROUTE, route)) {
        throw new ApiException('forbidden', 'This API key can only read: submitting, cancelling or deleting needs a key with the full scope.');
      }
    }
    req.userId = owner.userId;
    if (owner.expiresAt) req.credentialExpiresAt = owner.expiresAt;
    return true;
  }

  /** `req.ip` is the TCP peer, or the forwarded client address when TRUST_PROXY says which proxies to believe. */
  private takeForAddress(req: AuthenticatedRequest): void {
    const { allowed, retryAfterSeconds } = this.addressBuckets.take(clientAddressKey(req.ip ?? req.socket.remoteAddress ?? 'unknown'));
    if (!allowed) throw rateLimited('Too many requests from this address. Please slow down.', retryAfterSeconds);
  }
}
