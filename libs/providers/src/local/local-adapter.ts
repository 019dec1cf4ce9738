import { unrecognizedStatus } from '../adapter/unrecognized-status';
import type {
  ProviderAdapter,
  ProviderAdapterConfig,
  ProviderCallContext,
  ProviderCapabilities,
  ProviderCheckResult,
  ProviderSubmitRequest,
  ProviderSubmitResult, OutputDownload,
  CancelOutcome,
} from '../adapter/provider-adapter';
import { normalizedError } from '../adapter/provider-error';
import type { ProviderHttp } from '../http/provider-http';
import { bearerAuth, createProviderHttp } from '../http/create-provider-http';
import { createTask } from '../http/create-task';
import type { LocalTaskStatus } from './render-queue';

export const LOCAL_DEFAULT_BASE_URL = 'http://127.0.0.1:4010/local/v1';
export const LOCAL_MODELS = ['local-preview'] as const;

/** The local renderer's task JSON (served by provider-sim under `/local/v1`). */
export interface LocalTaskWire {
  id: string;
  status: LocalTaskStatus;
  progress?: number;
  output?: { url: string } | null;
  error?: { code?: string; message?: string } | null;
}

/**
 * The local renderer as a provider: real H.264 MP4s rendered by ffmpeg inside provider-sim, so
 * reelay works end to end with no provider account. It needs no key (any configured key is sent
 * as a Bearer token and ignored).
 */
export class LocalAdapter implements ProviderAdapter {
  readonly name = 'local';
  readonly capabilities: ProviderCapabilities = { cancel: true, callbacks: false, idempotencyKey: false, listTasks: false, models: LOCAL_MODELS };
  private readonly http: ProviderHttp;

  constructor(config: Partial<ProviderAdapterConfig> = {}) {
    this.http = createProviderHttp({
      provider: 'local',
      config,
      defaultBaseUrl: LOCAL_DEFAULT_BASE_URL,
      headers: config.apiKey ? bearerAuth(config.apiKey) : {},
    });
  }

  async submit(req: ProviderSubmitRequest, ctx?: ProviderCallContext): Promise<ProviderSubmitResult> {
    const body = {
      model: req.model,
      prompt: req.prompt,
      seed: req.seed ?? 0,
      duration: req.durationSeconds,
      aspect_ratio: req.aspectRatio,
      resolution: req.resolution ?? null,
    };
    return createTask(this.http, { path: '/tasks', json: body, submissionKey: req.submissionKey }, ctx, 'local renderer answered without a task id');
  }

  async check(providerTaskId: string, ctx?: ProviderCallContext): Promise<ProviderCheckResult> {
    const res = await this.http.request<LocalTaskWire>({ method: 'GET', path: `/tasks/${encodeURIComponent(providerTaskId)}` }, ctx);
    const t = res.body;
    const progress = typeof t.progress === 'number' ? Math.max(0, Math.min(1, t.progress / 100)) : undefined;
    const withProgress = progress === undefined ? {} : { progress };
    switch (t.status) {
      case 'queued':
        return { state: 'queued', providerStatus: t.status, ...withProgress };
      case 'running':
        return { state: 'running', providerStatus: t.status, ...withProgress };
      case 'succeeded':
        if (!t.output?.url) return { state: 'failed', providerStatus: t.status, error: normalizedError('output_missing', `local task ${t.id} has no output`) };
        return { state: 'succeeded', providerStatus: t.status, progress: 1, outputUrl: t.output.url };
      case 'canceled':
        return { state: 'canceled', providerStatus: t.status };
      case 'failed':
        return {
          state: 'failed',
          providerStatus: t.status,
          error: normalizedError('server', `local render failed: ${t.error?.message ?? 'unknown'}`.slice(0, 500), { providerCode: t.error?.code, retryable: false }),
        };
      default:
        return unrecognizedStatus(t.status);
    }
  }

  async cancel(providerTaskId: string, ctx?: ProviderCallContext): Promise<CancelOutcome> {
    await this.http.request({ method: 'DELETE', path: `/tasks/${encodeURIComponent(providerTaskId)}` }, ctx);
    return 'stopped';
  }

  fetchOutput(outputUrl: string, ctx?: ProviderCallContext): Promise<OutputDownload> {
    return this.http.download(outputUrl, ctx, false);
  }
}
