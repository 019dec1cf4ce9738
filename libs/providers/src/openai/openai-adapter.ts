import type {
  ProviderAdapter,
  ProviderAdapterConfig,
  ProviderCallContext,
  ProviderCapabilities,
  ProviderCheckResult,
  ProviderSubmitRequest,
  ProviderSubmitResult,
  VerifiedCallback, OutputDownload } from '../adapter/provider-adapter';
import { unrecognizedStatus } from '../adapter/unrecognized-status';
import { ProviderError, normalizedError } from '../adapter/provider-error';
import { parseJsonObject, type HeaderBag } from '../adapter/callback-helpers';
import { verifyStandardWebhook } from '../adapter/standard-webhooks';
import type { ProviderHttp } from '../http/provider-http';
import { bearerAuth, createProviderHttp } from '../http/create-provider-http';
import { createTask } from '../http/create-task';
import { mapOpenAIHttpError, mapOpenAIVideoError } from './openai-errors';
import type { OpenAIVideo, OpenAIWebhookEvent } from './openai-wire';

export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';
export const OPENAI_MODELS = ['sora-2', 'sora-2-pro'] as const;

export interface OpenAIAdapterConfig extends ProviderAdapterConfig {
  /** `whsec_...` secret of the project-level webhook endpoint (video.completed / video.failed). */
  webhookSecret?: string;
  organization?: string;
  project?: string;
  nowMs?: () => number;
}

/**
 * OpenAI Videos (Sora). Note providers.md warning 1: the Sora API was scheduled to shut down on
 * 2026-09-24; a 404/410 from the real service then maps to `not_found` (unknown_provider_error).
 */
export class OpenAIAdapter implements ProviderAdapter {
  readonly name = 'openai';
  readonly capabilities: ProviderCapabilities = {
    cancel: false, // DELETE only removes finished videos
    callbacks: false, // webhooks are per project, not per request; verifyCallback handles them when a secret is set
    idempotencyKey: false,
    listTasks: false, // nothing the API echoes can carry reelay's key
    models: OPENAI_MODELS,
  };
  private readonly http: ProviderHttp;

  constructor(private readonly config: OpenAIAdapterConfig) {
    const headers = bearerAuth(config.apiKey);
    if (config.organization) headers['openai-organization'] = config.organization;
    if (config.project) headers['openai-project'] = config.project;
    this.http = createProviderHttp({
      provider: 'openai',
      config,
      defaultBaseUrl: OPENAI_DEFAULT_BASE_URL,
      headers,
      secrets: [config.webhookSecret],
      mapError: mapOpenAIHttpError,
    });
  }

  async submit(req: ProviderSubmitRequest, ctx?: ProviderCallContext): Promise<ProviderSubmitResult> {
    const body: Record<string, unknown> = {
      model: req.model,
      prompt: req.prompt,
      seconds: String(req.durationSeconds),
      size: soraSize(req.model, req.aspectRatio, req.resolution),
    };
    if (req.imageUrl) body.input_reference = { image_url: req.imageUrl };
    return createTask(this.http, { path: '/videos', json: body, submissionKey: req.submissionKey }, ctx, 'openai create answered without an id');
  }

  async check(providerTaskId: string, ctx?: ProviderCallContext): Promise<ProviderCheckResult> {
    const res = await this.http.request<OpenAIVideo>({ method: 'GET', path: `/videos/${encodeURIComponent(providerTaskId)}` }, ctx);
    return this.videoToResult(res.body);
  }

  /** The content endpoint needs our key, so only URLs on our own base URL get it. */
  fetchOutput(outputUrl: string, ctx?: ProviderCallContext): Promise<OutputDownload> {
    return this.http.download(outputUrl, ctx, outputUrl.startsWith(this.http.baseUrl.replace(/\/+$/, '') + '/'));
  }

  verifyCallback(headers: HeaderBag, rawBody: string | Buffer): VerifiedCallback | null {
    if (!this.config.webhookSecret) return null;
    if (!verifyStandardWebhook(this.config.webhookSecret, headers, rawBody, { nowMs: this.config.nowMs?.() })) return null;
    const event = parseJsonObject(rawBody) as OpenAIWebhookEvent | null;
    if (!event?.type?.startsWith('video.') || typeof event.data?.id !== 'string') return null;
    return { providerTaskId: event.data.id, signed: true };
  }

  private videoToResult(video: OpenAIVideo): ProviderCheckResult {
    const providerStatus = video.status;
    const progress = typeof video.progress === 'number' ? Math.max(0, Math.min(1, video.progress / 100)) : undefined;
    switch (video.status) {
      case 'queued':
        return { state: 'queued', providerStatus, ...(progress !== undefined ? { progress } : {}) };
      case 'in_progress':
        return { state: 'running', providerStatus, ...(progress !== undefined ? { progress } : {}) };
      case 'completed': {
        const now = this.config.nowMs?.() ?? Date.now();
        if (typeof video.expires_at === 'number' && video.expires_at * 1000 <= now) {
          return {
            state: 'failed',
            providerStatus,
            error: normalizedError('output_missing', `openai video ${video.id} assets expired at ${video.expires_at}`),
          };
        }
        return { state: 'succeeded', providerStatus, progress: 1, outputUrl: this.http.url(`/videos/${encodeURIComponent(video.id)}/content`) };
      }
      case 'failed':
        return { state: 'failed', providerStatus, error: mapOpenAIVideoError(video.error?.code, video.error?.message) };
      default:
        return unrecognizedStatus(video.status);
    }
  }
}

/** reelay aspect ratio + resolution → Sora `size` (720p sizes on sora-2; pro adds 1792x1024 for 1080p). */
export function soraSize(model: string, aspectRatio: string, resolution?: string): string {
  if (aspectRatio === '1:1') throw new ProviderError('invalid_request', 'openai sora has no square size', { providerCode: 'size' });
  const landscape = aspectRatio === '16:9';
  if (resolution === '1080p' && model.startsWith('sora-2-pro')) return landscape ? '1792x1024' : '1024x1792';
  return landscape ? '1280x720' : '720x1280';
}
