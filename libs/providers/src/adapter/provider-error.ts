import { redact } from '../http/redact';

/**
 * Why a provider call or a provider task went wrong, in provider-neutral terms.
 * `toJobErrorCode` (map-to-job-error.ts) turns a kind into reelay's public error code.
 */
export type ProviderErrorKind =
  | 'rate_limited'
  | 'server'
  | 'timeout'
  | 'moderation'
  | 'invalid_request'
  | 'auth'
  | 'billing'
  | 'not_found'
  | 'asset_fetch'
  | 'output_missing';

/**
 * `providerCode` of a `not_found` that says the provider no longer serves the model id (a retired
 * model), as opposed to a wrong route or a typo: dispatch tells the user to choose another model.
 */
export const MODEL_UNAVAILABLE = 'model_unavailable';

/** Kinds that are worth retrying by default (an adapter may override per error). */
const RETRYABLE_KINDS: ReadonlySet<ProviderErrorKind> = new Set(['rate_limited', 'server', 'timeout']);

export interface NormalizedProviderError {
  kind: ProviderErrorKind;
  /** The provider's own machine code (e.g. `SAFETY.INPUT.TEXT`, `InputTextRiskDetection`), for operators. */
  providerCode?: string;
  /**
   * Operator-facing detail (provider message, HTTP status). Never shown to users, never contains
   * secrets: whoever builds one, credentials and URL queries are redacted here (see redact).
   */
  detail: string;
  retryable: boolean;
  retryAfterMs?: number;
}

export interface ProviderErrorInit {
  providerCode?: string;
  retryable?: boolean;
  retryAfterMs?: number;
  httpStatus?: number;
  /**
   * The call failed without an answer after the request may have reached the provider (a timeout,
   * a connection lost mid-call): a create call may have created the task.
   */
  maybeDelivered?: boolean;
  /** The failure says nothing of the provider's health (a conflict with a concurrent request): it does not count toward its circuit. */
  notProviderFault?: boolean;
  cause?: unknown;
}

export class ProviderError extends Error implements NormalizedProviderError {
  readonly kind: ProviderErrorKind;
  readonly providerCode?: string;
  readonly detail: string;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  readonly httpStatus?: number;
  readonly maybeDelivered: boolean;
  readonly notProviderFault: boolean;

  constructor(kind: ProviderErrorKind, detail: string, init: ProviderErrorInit = {}) {
    const redacted = redact(detail);
    super(`${kind}: ${redacted}`, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'ProviderError';
    this.kind = kind;
    this.detail = redacted;
    this.providerCode = init.providerCode;
    this.retryable = init.retryable ?? RETRYABLE_KINDS.has(kind);
    this.retryAfterMs = init.retryAfterMs;
    this.httpStatus = init.httpStatus;
    this.maybeDelivered = init.maybeDelivered ?? false;
    this.notProviderFault = init.notProviderFault ?? false;
  }

  toNormalized(): NormalizedProviderError {
    return normalizedError(this.kind, this.detail, this);
  }
}

/** Builds the plain (serializable) error object used in check results. */
export function normalizedError(
  kind: ProviderErrorKind,
  detail: string,
  init: Pick<ProviderErrorInit, 'providerCode' | 'retryable' | 'retryAfterMs'> = {},
): NormalizedProviderError {
  const out: NormalizedProviderError = { kind, detail: redact(detail), retryable: init.retryable ?? RETRYABLE_KINDS.has(kind) };
  if (init.providerCode !== undefined) out.providerCode = init.providerCode;
  if (init.retryAfterMs !== undefined) out.retryAfterMs = init.retryAfterMs;
  return out;
}

/**
 * A create answered 2xx without naming a task we can follow: the provider's fault, and it may have
 * made the task all the same, so dispatch treats the try as one of unknown outcome.
 */
export function unnamedTaskError(detail: string): ProviderError {
  return new ProviderError('server', detail, { maybeDelivered: true });
}

export function isProviderError(e: unknown): e is ProviderError {
  return e instanceof ProviderError;
}
