import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { hashApiKey } from '@reelay/accounts';
import { ApiException } from '../errors/api-exception';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';
import { TokenBuckets } from '../rate-limit/token-bucket';
import { ApiKeyLookup } from './api-key-lookup';
import { type AuthenticatedRequest, PUBLIC_ROUTE } from './current-user';

const unauthorized = () =>
  new ApiException('unauthorized', 'A valid API key is required: send it as "Authorization: Bearer <key>".', {
    headers: { 'WWW-Authenticate': 'Bearer' },
  });

/** Bearer API key on every /v1 route, then the key's request budget (429 + Retry-After). */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly buckets: TokenBuckets;
  private readonly keys: ApiKeyLookup;

  constructor(
    @Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps,
    private readonly reflector: Reflector,
  ) {
    this.buckets = new TokenBuckets(deps.config.RATE_LIMIT_PER_SECOND, deps.config.RATE_LIMIT_BURST);
    this.keys = new ApiKeyLookup(deps.dataSource);
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const req = ctx.switchToHttp().getRequest<AuthenticatedRequest>();
    // Express matches routes case-insensitively, so /V1/jobs reaches the /v1/jobs handler: so must this test.
    if (!/^\/v1\//i.test(req.path)) return true;
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [ctx.getHandler(), ctx.getClass()])) return true;

    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!match) throw unauthorized();
    const userId = await this.keys.userFor(match[1]);
    if (!userId) throw unauthorized();

    const { allowed, retryAfterSeconds } = this.buckets.take(hashApiKey(match[1]));
    if (!allowed) {
      throw new ApiException('rate_limited', 'Too many requests for this API key. Please slow down.', {
        headers: { 'Retry-After': String(retryAfterSeconds) },
      });
    }
    req.userId = userId;
    return true;
  }
}
