import type { Readable } from 'node:stream';
import type { NormalizedProviderError } from './provider-error';

export type ProviderAspectRatio = '16:9' | '9:16' | '1:1';

export interface ProviderSubmitRequest {
  /** The provider's own model id (e.g. `seedance-1-0-pro-250528`, `sora-2`, `gen4_turbo`, `ray-2`). */
  model: string;
  prompt: string;
  negativePrompt?: string;
  durationSeconds: number;
  aspectRatio: ProviderAspectRatio;
  resolution?: '480p' | '720p' | '1080p';
  seed?: number;
  /** A URL the provider can fetch itself (reelay makes it reachable before submitting). */
  imageUrl?: string;
  /** reelay's idempotency/correlation key for this submission; stable across retries of the same attempt. */
  submissionKey: string;
  /** Where the provider should post status changes, for providers that support per-request callbacks. */
  callbackUrl?: string;
}

export interface ProviderCallContext {
  signal?: AbortSignal;
  /** Overrides the adapter's default request timeout for this call. */
  timeoutMs?: number;
}

export interface ProviderSubmitResult {
  providerTaskId: string;
}

export type ProviderTaskState = 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled';

export interface ProviderCheckResult {
  state: ProviderTaskState;
  /** 0..1 when the provider reports progress. */
  progress?: number;
  /** Present exactly when state is `succeeded`; fetch it through `adapter.fetchOutput`. */
  outputUrl?: string;
  /** Present exactly when state is `failed`. */
  error?: NormalizedProviderError;
  /** The provider says the task is held back by its own capacity limits (Runway `THROTTLED`). */
  delayed?: boolean;
  /** The provider's raw status word, for operators and logs. */
  providerStatus?: string;
  /** The status word is not one the adapter knows (see unrecognizedStatus): taken as running, worth an alert. */
  unrecognized?: boolean;
}

/** A succeeded task's output, handed over when its headers arrive: read `body` to its end or destroy it. */
export interface OutputDownload {
  status: number;
  headers: Headers;
  body: Readable;
}

export interface ProviderCapabilities {
  /** `cancel()` can stop a task that has not finished. */
  cancel: boolean;
  /** The provider posts status changes to a per-request `callbackUrl`. */
  callbacks: boolean;
  /** The provider de-duplicates submissions carrying the same key. */
  idempotencyKey: boolean;
  /** `findBySubmissionKey()` can find a task after a crash between submit and recording it. */
  listTasks: boolean;
  /**
   * `findBySubmissionKey()` finds only tasks submitted with a `callbackUrl` (the key rides in it):
   * without callbacks the adapter cannot be reconciled.
   */
  findsOnlyWithCallback?: boolean;
  /** Provider model ids this adapter knows (the provider may accept others). */
  models: readonly string[];
  /**
   * The provider takes a reference image's bytes inside the request, not a URL to fetch. Callers
   * hand such an adapter a `data:` URL, having fetched a user's URL themselves under their own
   * outbound rules (SSRF guard); up to `maxBytes`.
   */
  inlineImage?: { maxBytes: number };
  /**
   * The provider fetches a reference image from an http(s) link and takes no `data:` URL, so an
   * uploaded image can reach it only as a link reelay serves (a signed asset link).
   */
  imageByLinkOnly?: boolean;
  /** The provider fetches image links over HTTPS only: an upload goes inline while reelay's own links are plain http. */
  linksOverHttpsOnly?: boolean;
  /** The longest `data:` URL the provider takes as an image, in characters (Runway: 5 MB), where it has a limit of its own. */
  dataUrlMaxLength?: number;
  /**
   * The provider fetches image links under rules a user's link may well not meet (Runway: no
   * redirects, must answer HEAD with a type and length, no IP literals; a presigned GET link fails
   * HEAD): a user's image URL is fetched by reelay and sent as a `data:` URL when it fits
   * `dataUrlMaxLength`, else as the link.
   */
  userLinksInline?: boolean;
}

export interface VerifiedCallback {
  providerTaskId: string;
  /**
   * True when the body was authenticated (signature checked). Unsigned callbacks are hints only:
   * the caller must confirm with `check()` before acting on them.
   */
  signed: boolean;
}

/** What a cancel call achieved: the task stopped (or was over), or only a request to stop it was taken. */
export type CancelOutcome = 'stopped' | 'requested';

export interface ProviderAdapter {
  /** Unique provider name, e.g. `seedance`, `openai`, `runway`, `luma`. */
  readonly name: string;
  readonly capabilities: ProviderCapabilities;

  /** Starts a task. Throws `ProviderError` on rejection; never returns without a task id. */
  submit(req: ProviderSubmitRequest, ctx?: ProviderCallContext): Promise<ProviderSubmitResult>;

  /** Reads the task's current state. Throws `ProviderError` when the check itself fails (429, 5xx, 404...). */
  check(providerTaskId: string, ctx?: ProviderCallContext): Promise<ProviderCheckResult>;

  /** Downloads a succeeded task's output. Expired/missing outputs throw `ProviderError('output_missing')`. */
  fetchOutput(outputUrl: string, ctx?: ProviderCallContext): Promise<OutputDownload>;

  /**
   * Asks the provider to stop the task. Resolves `'requested'` when the provider took the request
   * but the task may go on (fal signals a running request, which the app may or may not honor);
   * otherwise the task is stopped (or was over already). Throws when the provider refuses.
   */
  cancel?(providerTaskId: string, ctx?: ProviderCallContext): Promise<CancelOutcome>;

  /**
   * Authenticates (where the provider signs) and parses a callback; null when it is not acceptable.
   * `query` is the callback URL's query string without '?', as received.
   */
  verifyCallback?(headers: Record<string, string | string[] | undefined>, rawBody: string | Buffer, query?: string): VerifiedCallback | null;

  /** Loads what verifying callbacks needs (e.g. signing keys); the service that verifies calls it at startup. */
  prepare?(ctx?: ProviderCallContext): Promise<void>;

  /**
   * Finds a task this key submitted, for reconciliation after a crash; null when there is none.
   * Throws a non-retryable `server` ProviderError when it cannot tell (the task may lie beyond what
   * can be listed): dispatch then fails the job as of unknown outcome rather than submit again.
   * `notBefore`: no try under this key was made earlier (the job's first intent), so a list read
   * newest first may stop at older tasks.
   */
  findBySubmissionKey?(submissionKey: string, ctx?: ProviderCallContext, notBefore?: Date): Promise<string | null>;
}

/** Every adapter takes at least these; `baseUrl` defaults to the real service. */
export interface ProviderAdapterConfig {
  apiKey: string;
  baseUrl?: string;
  /** Default per-request timeout, ms. */
  timeoutMs?: number;
  /** Injected for tests; defaults to global fetch. */
  fetch?: typeof fetch;
}

/** Header every adapter sends with submits so simulators and logs can correlate attempts. */
export const SUBMISSION_KEY_HEADER = 'x-reelay-submission-key';
