import type {
  ProviderAdapter,
  ProviderAdapterConfig,
  ProviderCallContext,
  ProviderCapabilities,
  ProviderCheckResult,
  ProviderSubmitRequest,
  ProviderSubmitResult,
  OutputDownload,
  CancelOutcome,
} from '../adapter/provider-adapter';
import { unrecognizedStatus } from '../adapter/unrecognized-status';
import { ProviderError, normalizedError } from '../adapter/provider-error';
import type { ProviderHttp } from '../http/provider-http';
import { bearerAuth, createProviderHttp } from '../http/create-provider-http';
import { createTask } from '../http/create-task';
import { mapRunwayFailure, mapRunwayHttpError } from './runway-errors';
import { RUNWAY_API_VERSION, type RunwayTask } from './runway-wire';

export const RUNWAY_DEFAULT_BASE_URL = 'https://api.dev.runwayml.com';
export const RUNWAY_MODELS = ['gen4.5', 'gen4_turbo', 'veo3.1', 'veo3.1_fast'] as const;

/** reelay aspect ratio → Runway pixel ratio. */
const RATIOS: Record<string, string> = { '16:9': '1280:720', '9:16': '720:1280', '1:1': '960:960' };

/** Runway takes 960:960 only from an image, and only on its gen4 models; veo3.1 has no square ratio. */
function runwayRatio(model: string, aspectRatio: string, fromImage: boolean): string | undefined {
  if (aspectRatio === '1:1' && (!fromImage || model.startsWith('veo'))) return undefined;
  return RATIOS[aspectRatio];
}

/** Models Runway runs from an image only (no text_to_video). */
const IMAGE_ONLY = new Set(['gen4_turbo']);

export interface RunwayAdapterConfig extends ProviderAdapterConfig {
  apiVersion?: string;
}

/** Runway takes `data:` image URIs of up to 5 MB (its input limits); counted in decimal megabytes, the stricter reading. */
export const RUNWAY_DATA_URL_MAX_LENGTH = 5_000_000;

export class RunwayAdapter implements ProviderAdapter {
  readonly name = 'runway';
  readonly capabilities: ProviderCapabilities = {
    cancel: true,
    callbacks: false,
    idempotencyKey: false,
    listTasks: false, // no list endpoint
    models: RUNWAY_MODELS,
    linksOverHttpsOnly: true,
    dataUrlMaxLength: RUNWAY_DATA_URL_MAX_LENGTH,
    userLinksInline: true,
  };
  private readonly http: ProviderHttp;

  constructor(config: RunwayAdapterConfig) {
    this.http = createProviderHttp({
      provider: 'runway',
      config,
      defaultBaseUrl: RUNWAY_DEFAULT_BASE_URL,
      headers: { ...bearerAuth(config.apiKey), 'x-runway-version': config.apiVersion ?? RUNWAY_API_VERSION },
      mapError: mapRunwayHttpError,
    });
  }

  async submit(req: ProviderSubmitRequest, ctx?: ProviderCallContext): Promise<ProviderSubmitResult> {
    if (!req.imageUrl && IMAGE_ONLY.has(req.model)) throw new ProviderError('invalid_request', `runway ${req.model} makes video from an image only`);
    const ratio = runwayRatio(req.model, req.aspectRatio, Boolean(req.imageUrl));
    if (!ratio) throw new ProviderError('invalid_request', `runway ${req.model} has no ratio for ${req.aspectRatio}${req.imageUrl ? '' : ' without an image'}`);
    const body: Record<string, unknown> = { model: req.model, promptText: req.prompt, ratio, duration: req.durationSeconds };
    if (req.seed !== undefined) body.seed = req.seed;
    if (req.imageUrl) body.promptImage = req.imageUrl;
    if (req.negativePrompt && req.model.startsWith('veo')) body.negativePrompt = req.negativePrompt;
    const path = req.imageUrl ? '/v1/image_to_video' : '/v1/text_to_video';
    return createTask(this.http, { path, json: body, submissionKey: req.submissionKey }, ctx, 'runway create answered without an id');
  }

  async check(providerTaskId: string, ctx?: ProviderCallContext): Promise<ProviderCheckResult> {
    const res = await this.http.request<RunwayTask>({ method: 'GET', path: `/v1/tasks/${encodeURIComponent(providerTaskId)}` }, ctx);
    return runwayTaskToResult(res.body);
  }

  /** Output URLs are signed and expire in 24-48 h; on output_missing, check() again for fresh URLs. */
  fetchOutput(outputUrl: string, ctx?: ProviderCallContext): Promise<OutputDownload> {
    return this.http.download(outputUrl, ctx, false);
  }

  async cancel(providerTaskId: string, ctx?: ProviderCallContext): Promise<CancelOutcome> {
    await this.http.request({ method: 'DELETE', path: `/v1/tasks/${encodeURIComponent(providerTaskId)}`, headers: { accept: '*/*' } }, ctx);
    return 'stopped';
  }
}

/** Runway status → normalized state (providers.md §10). */
export function runwayTaskToResult(task: RunwayTask): ProviderCheckResult {
  const providerStatus = task.status;
  switch (task.status) {
    case 'PENDING':
      return { state: 'queued', providerStatus };
    case 'THROTTLED':
      return { state: 'queued', delayed: true, providerStatus };
    case 'RUNNING':
      return { state: 'running', providerStatus, ...(typeof task.progress === 'number' ? { progress: clamp01(task.progress) } : {}) };
    case 'SUCCEEDED': {
      const url = task.output?.[0];
      if (!url) return { state: 'failed', providerStatus, error: normalizedError('output_missing', 'runway task SUCCEEDED with empty output') };
      return { state: 'succeeded', providerStatus, progress: 1, outputUrl: url };
    }
    case 'FAILED':
      return { state: 'failed', providerStatus, error: mapRunwayFailure(task.failureCode, task.failure) };
    case 'CANCELLED':
      return { state: 'canceled', providerStatus };
    default:
      return unrecognizedStatus(task.status);
  }
}

function clamp01(n: number): number {
  // UNSURE (providers.md §3) whether progress is 0..1 or 0..100; accept both.
  const v = n > 1 ? n / 100 : n;
  return Math.max(0, Math.min(1, v));
}
