import { json } from 'node:stream/consumers';
import type { KeyObject } from 'node:crypto';
import type {
  ProviderAdapter,
  ProviderAdapterConfig,
  ProviderCallContext,
  ProviderCapabilities,
  ProviderCheckResult,
  ProviderSubmitRequest,
  ProviderSubmitResult,
  VerifiedCallback, OutputDownload,
  CancelOutcome,
} from '../adapter/provider-adapter';
import { SUBMISSION_KEY_HEADER } from '../adapter/provider-adapter';
import { unrecognizedStatus } from '../adapter/unrecognized-status';
import { ProviderError, isProviderError, normalizedError, unnamedTaskError } from '../adapter/provider-error';
import { parseJsonObject, withQueryParam, type HeaderBag } from '../adapter/callback-helpers';
import type { ProviderHttp } from '../http/provider-http';
import { createProviderHttp } from '../http/create-provider-http';
import { isFalCancellation, mapFalHttpError } from './fal-errors';
import { FAL_DEFAULT_JWKS_URL, ed25519KeysFromJwks, verifyFalWebhook, type Jwk } from './fal-webhook-signature';
import type { FalCancelResponse, FalStatusResponse, FalSubmitResponse } from './fal-wire';

export const FAL_DEFAULT_BASE_URL = 'https://queue.fal.run';
export const FAL_MODELS = [
  'fal-ai/kling-video/v2.1/pro/text-to-video',
  'fal-ai/veo3',
  'fal-ai/bytedance/seedance/v1/pro/text-to-video',
  'fal-ai/pika/v2.2/text-to-video',
] as const;
const JWKS_MAX_AGE_MS = 24 * 3600_000;
/**
 * A key reload asked for by a callback (keys past their age, or a signature none of them verifies:
 * fal may have rotated its key) comes at most this often, so that a stream of forged callbacks
 * cannot become a stream of JWKS downloads.
 */
const JWKS_RETRY_MS = 60_000;
const FAL_APP_PARAM = 'fal_app';
/** A path segment of an app id; it starts with a letter or digit, so `.` and `..` never pass. */
const FAL_SEGMENT = '[A-Za-z0-9][A-Za-z0-9._-]*';
const FAL_TASK_ID = new RegExp(`^${FAL_SEGMENT}/${FAL_SEGMENT}/requests/[A-Za-z0-9_-]+$`);

export type FalDurationFormat = 'string' | 'number' | 'seconds';

export interface FalAdapterConfig extends ProviderAdapterConfig {
  /** Where fal publishes its webhook signing keys (the sim serves its own). */
  jwksUrl?: string;
  /** Static Ed25519 JWKs, used instead of fetching `jwksUrl`. */
  webhookKeys?: Jwk[];
  /** Send `?fal_webhook=` with submits (off by default: fal callbacks carry only the request id). */
  webhooks?: boolean;
  /** How models want `duration`: `"5"` (default, e.g. Kling), `5`, or `"5s"` (e.g. Veo 3). */
  durationFormat?: FalDurationFormat;
  /** A queued request at or beyond this position is reported as delayed. */
  delayedQueuePosition?: number;
  nowMs?: () => number;
}

/**
 * fal queue. A task id is `{owner}/{app}/requests/{request_id}`: status, result and cancel
 * live under the app id without the model's sub-path (providers.md §7 "sub-path trimming").
 */
export class FalAdapter implements ProviderAdapter {
  readonly name = 'fal';
  readonly capabilities: ProviderCapabilities;
  private readonly http: ProviderHttp;
  private keys: KeyObject[] = [];
  private keysLoadedAt = 0;
  private keysTriedAt = -Infinity;
  private keysLoading: Promise<void> | null = null;

  constructor(private readonly config: FalAdapterConfig) {
    this.capabilities = { cancel: true, callbacks: config.webhooks === true, idempotencyKey: false, listTasks: false, models: FAL_MODELS };
    this.http = createProviderHttp({
      provider: 'fal',
      config,
      defaultBaseUrl: FAL_DEFAULT_BASE_URL,
      headers: { authorization: `Key ${config.apiKey}` },
      mapError: (info, detail) => {
        const err = mapFalHttpError(info, detail);
        // A 5xx whose body is not fal's JSON (an HTML page, nothing) came from an edge, not from fal.
        if ((info.status >= 500 || info.status === 408) && !isFalErrorBody(info.body)) FROM_EDGE.add(err);
        return err;
      },
    });
    if (config.webhookKeys) {
      this.keys = ed25519KeysFromJwks({ keys: config.webhookKeys });
      this.keysLoadedAt = Number.POSITIVE_INFINITY;
    }
  }

  async submit(req: ProviderSubmitRequest, ctx?: ProviderCallContext): Promise<ProviderSubmitResult> {
    const app = falAppId(req.model);
    const input: Record<string, unknown> = {
      prompt: req.prompt,
      duration: formatDuration(req.durationSeconds, this.config.durationFormat ?? 'string'),
      aspect_ratio: req.aspectRatio,
    };
    if (req.resolution) input.resolution = req.resolution;
    if (req.seed !== undefined) input.seed = req.seed;
    if (req.negativePrompt) input.negative_prompt = req.negativePrompt;
    if (req.imageUrl) input.image_url = req.imageUrl;
    // fal's callbacks name only the request id: the app id that completes the task id rides in the URL.
    const query = this.config.webhooks && req.callbackUrl ? { fal_webhook: withQueryParam(req.callbackUrl, FAL_APP_PARAM, app) } : undefined;
    const res = await this.http.request<FalSubmitResponse>(
      { method: 'POST', path: `/${req.model}`, query, json: input, headers: { [SUBMISSION_KEY_HEADER]: req.submissionKey } },
      ctx,
    );
    const requestId = res.body?.request_id;
    if (!requestId || !/^[A-Za-z0-9_-]+$/.test(requestId)) throw unnamedTaskError('fal submit answered without a usable request_id');
    return { providerTaskId: `${app}/requests/${requestId}` };
  }

  async check(providerTaskId: string, ctx?: ProviderCallContext): Promise<ProviderCheckResult> {
    const path = taskPath(providerTaskId);
    const res = await this.http.request<FalStatusResponse>({ method: 'GET', path: `${path}/status`, query: { logs: 0 } }, ctx);
    const status = res.body;
    switch (status.status) {
      case 'IN_QUEUE': {
        const position = typeof status.queue_position === 'number' ? status.queue_position : undefined;
        const delayed = position !== undefined && position >= (this.config.delayedQueuePosition ?? 10);
        return { state: 'queued', providerStatus: position === undefined ? 'IN_QUEUE' : `IN_QUEUE(${position})`, ...(delayed ? { delayed } : {}) };
      }
      case 'IN_PROGRESS':
        return { state: 'running', providerStatus: 'IN_PROGRESS' };
      case 'COMPLETED':
        return this.readResult(path, 'COMPLETED', ctx);
      // Not in fal's SDK types, but listed by other clients: taken as the end they name, not as
      // running until the deadline; the result endpoint tells how a failed request failed.
      case 'FAILED':
        return this.readResult(path, 'FAILED', ctx);
      case 'CANCELED':
      case 'CANCELLED':
        return { state: 'canceled', providerStatus: status.status };
      default:
        return unrecognizedStatus(status.status);
    }
  }

  async cancel(providerTaskId: string, ctx?: ProviderCallContext): Promise<CancelOutcome> {
    try {
      const res = await this.http.request<FalCancelResponse>({ method: 'PUT', path: `${taskPath(providerTaskId)}/cancel` }, ctx);
      // A queued request is removed (OK); a running one only gets a signal its app may ignore (202).
      return res.status === 202 || res.body?.status === 'CANCELLATION_REQUESTED' ? 'requested' : 'stopped';
    } catch (e) {
      // Already finished: nothing to stop; `check()` reports the outcome.
      if (isProviderError(e) && e.providerCode === 'ALREADY_COMPLETED') return 'stopped';
      throw e;
    }
  }

  /** fal CDN URLs are public; the key is never sent with downloads. */
  fetchOutput(outputUrl: string, ctx?: ProviderCallContext): Promise<OutputDownload> {
    return this.http.download(outputUrl, ctx, false);
  }

  /**
   * Ed25519 signature check against fal's JWKS. Keys are fetched in the background (call
   * `refreshWebhookKeys()` at startup); until they are loaded every callback is refused, which
   * fal answers by retrying. The body names only the request id; the app id that completes the
   * task id comes back in the webhook URL's query, where `submit()` put it.
   */
  verifyCallback(headers: HeaderBag, rawBody: string | Buffer, query?: string): VerifiedCallback | null {
    // Submits asked for no callbacks: nothing posted here is ours, and it costs no key download.
    if (!this.config.webhooks) return null;
    const now = this.config.nowMs?.() ?? Date.now();
    if (now - this.keysLoadedAt > JWKS_MAX_AGE_MS) this.reloadKeysSoon(now);
    if (!verifyFalWebhook(this.keys, headers, rawBody, { nowMs: now })) {
      this.reloadKeysSoon(now); // fal sends a refused callback again, by when a new key is here
      return null;
    }
    const body = parseJsonObject(rawBody);
    const app = new URLSearchParams(query ?? '').get(FAL_APP_PARAM);
    if (typeof body?.request_id !== 'string' || !app) return null;
    const providerTaskId = `${app}/requests/${body.request_id}`;
    return FAL_TASK_ID.test(providerTaskId) ? { providerTaskId, signed: true } : null;
  }

  prepare(ctx?: ProviderCallContext): Promise<void> {
    return this.config.webhooks ? this.refreshWebhookKeys(ctx) : Promise.resolve();
  }

  private reloadKeysSoon(now: number): void {
    if (now - this.keysTriedAt < JWKS_RETRY_MS) return;
    void this.refreshWebhookKeys().catch(() => undefined);
  }

  /** Loads (or reloads) the webhook signing keys from `jwksUrl`. */
  refreshWebhookKeys(ctx?: ProviderCallContext): Promise<void> {
    if (this.config.webhookKeys) return Promise.resolve();
    this.keysTriedAt = this.config.nowMs?.() ?? Date.now();
    this.keysLoading ??= (async () => {
      try {
        const res = await this.http.download(this.config.jwksUrl ?? FAL_DEFAULT_JWKS_URL, ctx, false);
        const keys = ed25519KeysFromJwks((await json(res.body)) as { keys?: Jwk[] });
        if (keys.length === 0) throw new ProviderError('server', 'fal JWKS has no Ed25519 keys');
        this.keys = keys;
        this.keysLoadedAt = this.config.nowMs?.() ?? Date.now();
      } finally {
        this.keysLoading = null;
      }
    })();
    return this.keysLoading;
  }

  private async readResult(path: string, providerStatus: string, ctx?: ProviderCallContext): Promise<ProviderCheckResult> {
    let result: unknown;
    try {
      result = (await this.http.request({ method: 'GET', path }, ctx)).body;
    } catch (e) {
      // A 429, a network error or a timeout is a failed check, retried by the caller, and so is a
      // 5xx from an edge in front of fal (no fal error body), and a refusal of our key or account
      // (401, 403, 402: about this call, not the request, as on any other call). Any other HTTP
      // error, fal's JSON `detail` included, is how fal reports that the request itself failed.
      if (!isProviderError(e) || e.httpStatus === undefined || e.httpStatus === 429 || FROM_EDGE.has(e) || e.kind === 'auth' || e.kind === 'billing') throw e;
      if (isFalCancellation({ status: e.httpStatus, detail: e.detail, providerCode: e.providerCode })) {
        return { state: 'canceled', providerStatus };
      }
      return { state: 'failed', providerStatus, error: e.toNormalized() };
    }
    const url = videoUrl(result);
    if (providerStatus === 'FAILED') return { state: 'failed', providerStatus, error: normalizedError('server', 'fal reported the request FAILED and its result names no error', { retryable: false }) };
    if (url) return { state: 'succeeded', providerStatus, progress: 1, outputUrl: url };
    return { state: 'failed', providerStatus, error: normalizedError('output_missing', 'fal result has no video url') };
  }
}

/** Errors of calls that an edge in front of fal answered (see the constructor's mapError). */
const FROM_EDGE = new WeakSet<object>();

/** fal's own error bodies are JSON objects with `detail` (a string or a list) or `error_type`. */
function isFalErrorBody(body: unknown): boolean {
  return typeof body === 'object' && body !== null && ('detail' in body || 'error_type' in body);
}

/** `{owner}/{app}` of a model id: the part status/result/cancel URLs use. */
export function falAppId(model: string): string {
  const [owner, app] = model.split('/');
  const segment = new RegExp(`^${FAL_SEGMENT}$`);
  if (!owner || !app || !segment.test(owner) || !segment.test(app)) {
    throw new ProviderError('invalid_request', `fal model must be owner/app[/path], got ${model.slice(0, 80)}`);
  }
  return `${owner}/${app}`;
}

/** The fal request id inside a task id (what fal's callbacks name). */
export function falRequestId(providerTaskId: string): string {
  return providerTaskId.slice(providerTaskId.lastIndexOf('/') + 1);
}

function taskPath(providerTaskId: string): string {
  if (!FAL_TASK_ID.test(providerTaskId)) {
    throw new ProviderError('invalid_request', 'fal task id must be {owner}/{app}/requests/{request_id}');
  }
  return `/${providerTaskId}`;
}

function formatDuration(seconds: number, format: FalDurationFormat): string | number {
  if (format === 'number') return seconds;
  return format === 'seconds' ? `${seconds}s` : String(seconds);
}

/** Video apps answer `{ video: { url } }`; a few use `videos[]` or a top-level `url`. */
function videoUrl(result: unknown): string | undefined {
  if (!result || typeof result !== 'object') return undefined;
  const r = result as { video?: { url?: unknown }; videos?: { url?: unknown }[]; url?: unknown };
  const candidates = [r.video?.url, ...(Array.isArray(r.videos) ? r.videos.map((v) => v?.url) : []), r.url];
  return candidates.find((u): u is string => typeof u === 'string' && /^https?:\/\//.test(u));
}
