import { unrecognizedStatus } from '../adapter/unrecognized-status';
import type {
  OutputDownload,
  ProviderAdapter,
  ProviderAdapterConfig,
  ProviderCallContext,
  ProviderCapabilities,
  ProviderCheckResult,
  ProviderSubmitRequest,
  ProviderSubmitResult,
} from '../adapter/provider-adapter';
import { SUBMISSION_KEY_HEADER } from '../adapter/provider-adapter';
import { normalizedError, unnamedTaskError } from '../adapter/provider-error';
import { bearerAuth, createProviderHttp } from '../http/create-provider-http';
import type { ProviderHttp } from '../http/provider-http';
import { baseRespError, mapMinimaxHttpError } from './minimax-errors';
import type { MinimaxCreateResponse, MinimaxFileResponse, MinimaxQueryResponse } from './minimax-wire';

export const MINIMAX_DEFAULT_BASE_URL = 'https://api.minimax.io';
export const MINIMAX_MODELS = ['MiniMax-Hailuo-02', 'T2V-01', 'I2V-01'] as const;

/** reelay resolution → MiniMax's; MiniMax has no 720p and renders 768P instead. */
const RESOLUTIONS: Record<string, string> = { '480p': '512P', '720p': '768P', '1080p': '1080P' };

/**
 * MiniMax Hailuo video generation (providers.md §8). Polling only: the callback needs a challenge
 * handshake whose details are not documented well enough to rely on. A finished task names a file;
 * its download URL is temporary, so every check that finds success asks for a fresh one.
 */
/** MiniMax's "invalid params" code, which files/retrieve answers for a file it does not find. */
const FILE_NOT_FOUND = '2013';

export class MinimaxAdapter implements ProviderAdapter {
  readonly name = 'minimax';
  readonly capabilities: ProviderCapabilities = {
    cancel: false, // no cancel endpoint
    callbacks: false,
    idempotencyKey: false,
    listTasks: false, // no task list
    models: MINIMAX_MODELS,
  };
  private readonly http: ProviderHttp;

  constructor(config: ProviderAdapterConfig) {
    this.http = createProviderHttp({
      provider: 'minimax',
      config,
      defaultBaseUrl: MINIMAX_DEFAULT_BASE_URL,
      headers: bearerAuth(config.apiKey),
      mapError: mapMinimaxHttpError,
    });
  }

  async submit(req: ProviderSubmitRequest, ctx?: ProviderCallContext): Promise<ProviderSubmitResult> {
    const body: Record<string, unknown> = { model: req.model, prompt: req.prompt, duration: req.durationSeconds };
    if (req.resolution) body.resolution = RESOLUTIONS[req.resolution];
    if (req.imageUrl) body.first_frame_image = req.imageUrl;
    const res = await this.http.request<MinimaxCreateResponse>(
      { method: 'POST', path: '/v1/video_generation', json: body, headers: { [SUBMISSION_KEY_HEADER]: req.submissionKey } },
      ctx,
    );
    const err = baseRespError(res.body?.base_resp, 'POST /v1/video_generation');
    if (err) throw err;
    if (!res.body?.task_id) throw unnamedTaskError('minimax create answered without a task_id');
    return { providerTaskId: res.body.task_id };
  }

  async check(providerTaskId: string, ctx?: ProviderCallContext): Promise<ProviderCheckResult> {
    const res = await this.http.request<MinimaxQueryResponse>({ method: 'GET', path: '/v1/query/video_generation', query: { task_id: providerTaskId } }, ctx);
    const task = res.body ?? {};
    const providerStatus = task.status ?? '(none)';
    switch (task.status) {
      case 'Preparing':
      case 'Queueing':
        return { state: 'queued', providerStatus };
      case 'Processing':
        return { state: 'running', providerStatus };
      case 'Success': {
        if (task.file_id === undefined || task.file_id === '') {
          return { state: 'failed', providerStatus, error: normalizedError('output_missing', 'minimax task succeeded without a file_id') };
        }
        const file = await this.downloadUrl(String(task.file_id), ctx);
        if ('missing' in file) return { state: 'failed', providerStatus, error: normalizedError('output_missing', file.missing) };
        return { state: 'succeeded', providerStatus, progress: 1, outputUrl: file.url };
      }
      case 'Fail': {
        const err = baseRespError(task.base_resp, 'minimax task');
        // The task's own end: final, whatever the code would mean for a call.
        return { state: 'failed', providerStatus, error: err ? { ...err.toNormalized(), retryable: false } : normalizedError('server', 'minimax task failed', { retryable: false }) };
      }
      default: {
        // No status: the query itself was refused (unknown task, auth, rate limit) in base_resp.
        const err = baseRespError(task.base_resp, 'GET /v1/query/video_generation', 'retry');
        if (err) throw err;
        return unrecognizedStatus(task.status);
      }
    }
  }

  /** Download URLs are temporary: an expired one is output_missing, and the next check gets a fresh one. */
  fetchOutput(outputUrl: string, ctx?: ProviderCallContext): Promise<OutputDownload> {
    return this.http.download(outputUrl, ctx, false);
  }

  /**
   * The finished task's file: its download URL, or why there is none. A file MiniMax no longer finds
   * (2013) or describes without a URL is the task's missing output, not a refused call; rate limits
   * and server errors of the lookup are thrown, for the next check to ask again.
   */
  private async downloadUrl(fileId: string, ctx?: ProviderCallContext): Promise<{ url: string } | { missing: string }> {
    const res = await this.http.request<MinimaxFileResponse>({ method: 'GET', path: '/v1/files/retrieve', query: { file_id: fileId } }, ctx);
    const err = baseRespError(res.body?.base_resp, 'GET /v1/files/retrieve', 'retry');
    if (err?.providerCode === FILE_NOT_FOUND) return { missing: `minimax file ${fileId} is gone: ${err.message}` };
    if (err) throw err;
    const url = res.body?.file?.download_url;
    return url ? { url } : { missing: `minimax file ${fileId} answered without a download_url` };
  }
}
