import type {
  OutputDownload,
  ProviderAdapter,
  ProviderAdapterConfig,
  ProviderCallContext,
  ProviderCapabilities,
  ProviderCheckResult,
  ProviderSubmitRequest,
  ProviderSubmitResult,
  VerifiedCallback,
} from '../adapter/provider-adapter';
import { SUBMISSION_KEY_HEADER } from '../adapter/provider-adapter';
import { ProviderError, normalizedError, unnamedTaskError } from '../adapter/provider-error';
import { parseJsonObject, withQueryParam, type HeaderBag } from '../adapter/callback-helpers';
import { unrecognizedStatus } from '../adapter/unrecognized-status';
import { createProviderHttp } from '../http/create-provider-http';
import type { ProviderHttp } from '../http/provider-http';
import { klingEnvelopeError, mapKlingHttpError } from './kling-errors';
import { KLING_TOKEN_TTL_SECONDS, klingToken } from './kling-jwt';
import type { KlingEnvelope, KlingTask } from './kling-wire';

export const KLING_DEFAULT_BASE_URL = 'https://api-singapore.klingai.com';
export const KLING_MODELS = ['kling-v2-1-master', 'kling-v2-1', 'kling-v2-master', 'kling-v1-6'] as const;

/** `mode`: Kling renders 720p in `std` and 1080p in `pro`. */
const MODES: Record<string, string> = { '720p': 'std', '1080p': 'pro' };
const KINDS = new Set(['text2video', 'image2video']);
/** Query parameter naming the task's kind in the callback URL: Kling's callback names only the task id. */
const KIND_PARAM = 'kling_kind';
const MODERATED = /risk|sensitive|security|policy|inappropriate/i;
// The task's input image could not be fetched (providers.md §8 lists these messages as the asset failure; wording UNSURE).
const IMAGE_UNREACHABLE = /(download|fetch|access)\w*\W+(the\s+)?(input\s+)?(image|picture|file|url)|(image|picture|url)\W+(download|fetch)\w*\s+fail/i;

export interface KlingAdapterConfig extends ProviderAdapterConfig {
  /** The secret key that signs the API tokens; `apiKey` is the access key. */
  secretKey: string;
  nowMs?: () => number;
}

/**
 * Kling's own API (providers.md §8; the wire details are marked UNSURE there, so the simulator
 * follows the same reading). Auth is a short-lived JWT made from the access and secret keys. Text
 * and image tasks live under different paths, so the task id is `{text2video|image2video}/{task_id}`.
 * Callbacks are unsigned hints; `external_task_id` carries reelay's submission key for operators.
 */
export class KlingAdapter implements ProviderAdapter {
  readonly name = 'kling';
  readonly capabilities: ProviderCapabilities = {
    cancel: false, // no cancel endpoint
    callbacks: true,
    idempotencyKey: false,
    listTasks: false, // a task may be readable by external_task_id, but the sources disagree (UNSURE)
    models: KLING_MODELS,
  };
  private readonly http: ProviderHttp;
  private token: { value: string; renewAfterMs: number } | null = null;

  constructor(private readonly config: KlingAdapterConfig) {
    this.http = createProviderHttp({
      provider: 'kling',
      config,
      defaultBaseUrl: KLING_DEFAULT_BASE_URL,
      headers: {},
      secrets: [config.secretKey],
      mapError: mapKlingHttpError,
    });
  }

  async submit(req: ProviderSubmitRequest, ctx?: ProviderCallContext): Promise<ProviderSubmitResult> {
    const kind = req.imageUrl ? 'image2video' : 'text2video';
    const body: Record<string, unknown> = {
      model_name: req.model,
      prompt: req.prompt,
      duration: String(req.durationSeconds),
      mode: MODES[req.resolution ?? '720p'] ?? 'std',
      external_task_id: req.submissionKey,
    };
    if (kind === 'text2video') body.aspect_ratio = req.aspectRatio;
    if (req.negativePrompt) body.negative_prompt = req.negativePrompt;
    // Kling takes an image URL, or the image as bare base64 (no data: prefix).
    if (req.imageUrl) body.image = req.imageUrl.replace(/^data:image\/[a-z+.-]+;base64,/, '');
    if (req.callbackUrl) body.callback_url = withQueryParam(req.callbackUrl, KIND_PARAM, kind);
    const res = await this.http.request<KlingEnvelope<KlingTask>>(
      { method: 'POST', path: `/v1/videos/${kind}`, json: body, headers: { ...this.auth(), [SUBMISSION_KEY_HEADER]: req.submissionKey } },
      ctx,
    );
    const err = klingEnvelopeError(res.body, `POST /v1/videos/${kind}`);
    if (err) throw err;
    const taskId = res.body?.data?.task_id;
    if (!taskId || !/^[A-Za-z0-9_-]{1,128}$/.test(taskId)) throw unnamedTaskError('kling create answered without a usable task_id');
    return { providerTaskId: `${kind}/${taskId}` };
  }

  async check(providerTaskId: string, ctx?: ProviderCallContext): Promise<ProviderCheckResult> {
    const path = taskPath(providerTaskId);
    const res = await this.http.request<KlingEnvelope<KlingTask>>({ method: 'GET', path, headers: this.auth() }, ctx);
    const err = klingEnvelopeError(res.body, `GET ${path}`);
    if (err) throw err;
    return klingTaskToResult(res.body?.data ?? {});
  }

  /** Output URLs are public CDN links: no token. */
  fetchOutput(outputUrl: string, ctx?: ProviderCallContext): Promise<OutputDownload> {
    return this.http.download(outputUrl, ctx, false);
  }

  /** Unsigned: a hint to check. The body names the task id; its kind comes back in the callback URL we gave. */
  verifyCallback(_headers: HeaderBag, rawBody: string | Buffer, query?: string): VerifiedCallback | null {
    const body = parseJsonObject(rawBody);
    const data = (body?.data && typeof body.data === 'object' ? body.data : body) as { task_id?: unknown } | null;
    const kind = new URLSearchParams(query ?? '').get(KIND_PARAM) ?? '';
    if (typeof data?.task_id !== 'string' || !KINDS.has(kind)) return null;
    const providerTaskId = `${kind}/${data.task_id}`;
    return TASK_ID.test(providerTaskId) ? { providerTaskId, signed: false } : null;
  }

  private auth(): Record<string, string> {
    const now = this.config.nowMs?.() ?? Date.now();
    if (!this.token || now >= this.token.renewAfterMs) {
      // Renewed well before it expires, so a token never runs out mid-request.
      this.token = { value: klingToken(this.config.apiKey, this.config.secretKey, Math.floor(now / 1000)), renewAfterMs: now + (KLING_TOKEN_TTL_SECONDS - 300) * 1000 };
    }
    return { authorization: `Bearer ${this.token.value}` };
  }
}

const TASK_ID = /^(text2video|image2video)\/[A-Za-z0-9_-]{1,128}$/;

function taskPath(providerTaskId: string): string {
  if (!TASK_ID.test(providerTaskId)) throw new ProviderError('invalid_request', 'kling task id must be {text2video|image2video}/{task_id}');
  return `/v1/videos/${providerTaskId}`;
}

/** Kling task status → normalized state. */
export function klingTaskToResult(task: KlingTask): ProviderCheckResult {
  const providerStatus = task.task_status ?? '(none)';
  switch (task.task_status) {
    case 'submitted':
      return { state: 'queued', providerStatus };
    case 'processing':
      return { state: 'running', providerStatus };
    case 'succeed': {
      const url = task.task_result?.videos?.find((v) => typeof v.url === 'string' && /^https?:\/\//.test(v.url))?.url;
      if (!url) return { state: 'failed', providerStatus, error: normalizedError('output_missing', 'kling task succeeded without a video url') };
      return { state: 'succeeded', providerStatus, progress: 1, outputUrl: url };
    }
    case 'failed': {
      const message = (task.task_status_msg ?? 'kling task failed').slice(0, 300);
      if (MODERATED.test(message)) return { state: 'failed', providerStatus, error: normalizedError('moderation', message) };
      if (IMAGE_UNREACHABLE.test(message)) return { state: 'failed', providerStatus, error: normalizedError('asset_fetch', message) };
      return { state: 'failed', providerStatus, error: normalizedError('server', message, { retryable: false }) };
    }
    default:
      return unrecognizedStatus(task.task_status);
  }
}
