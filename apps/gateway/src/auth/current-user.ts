import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Request } from 'express';

export interface AuthenticatedRequest extends Request {
  userId?: string;
  /** Authenticated by a job token (`?token=`) rather than an API key. */
  viaJobToken?: boolean;
  /** When the credential stops being valid (a job token's expiry); nothing that outlives it may keep serving. */
  credentialExpiresAt?: Date;
}

/** The user that owns the request's API key (set by ApiKeyGuard). */
export const CurrentUser = createParamDecorator((_: unknown, ctx: ExecutionContext): string => {
  const userId = ctx.switchToHttp().getRequest<AuthenticatedRequest>().userId;
  if (!userId) throw new Error('CurrentUser used on a route without ApiKeyGuard');
  return userId;
});

export const PUBLIC_ROUTE = 'reelay:public-route';
/** Routes reached without an API key (provider callbacks, signed asset links); limited per client address. */
export const PublicRoute = () => SetMetadata(PUBLIC_ROUTE, true);

export const READ_KEY_ROUTE = 'reelay:read-key-route';
/** A route other than GET that a read-only key may call all the same: it changes nothing (a job token for reading). */
export const ReadKeyAllowed = () => SetMetadata(READ_KEY_ROUTE, true);

export const FULL_SCOPE_ROUTE = 'reelay:full-scope-route';
/** A GET that a read-only key may not call: what it shows lets its holder act for the user (the webhook signing secret). */
export const FullScopeOnly = () => SetMetadata(FULL_SCOPE_ROUTE, true);

export const JOB_TOKEN_ROUTE = 'reelay:job-token-route';
/**
 * Routes of one job (`/v1/jobs/:id/...`) that also take `?token=` from POST /v1/jobs/{id}/token
 * instead of an API key, for an EventSource or a `<video src>` that cannot send one.
 */
export const JobTokenAccepted = () => SetMetadata(JOB_TOKEN_ROUTE, true);
