import { findInTaskList } from '../adapter/find-in-task-list';
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
import { normalizedError } from '../adapter/provider-error';
import { unsignedCallbackById, withQueryParam, type HeaderBag } from '../adapter/callback-helpers';
import type { ProviderHttp } from '../http/provider-http';
import { bearerAuth, createProviderHttp } from '../http/create-provider-http';
import { createTask } from '../http/create-task';
import { correlationId } from '../seedance/seedance-adapter';
import { mapLumaFailure, mapLumaHttpError } from './luma-errors';
import type { LumaGeneration, LumaGenerationList } from './luma-wire';

export const LUMA_DEFAULT_BASE_URL = 'https://api.lumalabs.ai/dream-machine/v1';
export const LUMA_MODELS = ['ray-2', 'ray-flash-2'] as const;

/** Query parameter reelay adds to the callback URL so reconciliation can find the generation again. */
export const LUMA_CORRELATION_PARAM = 'reelay_sk';
const LIST_PAGE = 100;

export interface LumaAdapterConfig extends ProviderAdapterConfig {
  /**
   * Generations scanned (newest first, a page of 100 at a time) by findBySubmissionKey (default
   * 1,000). A key not among them while older ones remain is an unknown outcome, not "not found".
   */
  reconcileLimit?: number;
}

export class LumaAdapter implements ProviderAdapter {
  readonly name = 'luma';
  readonly capabilities: ProviderCapabilities = {
    cancel: false, // DELETE removes the record; no documented cancel
    callbacks: true,
    idempotencyKey: false,
    // Luma echoes the create body in `request`; the callback URL carries a hash of the submission
    // key, so only submissions made with a callbackUrl can be found again.
    listTasks: true,
    findsOnlyWithCallback: true,
    // Keyframe images are documented as public URLs only.
    imageByLinkOnly: true,
    models: LUMA_MODELS,
  };
  private readonly http: ProviderHttp;

  constructor(private readonly config: LumaAdapterConfig) {
    this.http = createProviderHttp({
      provider: 'luma',
      config,
      defaultBaseUrl: LUMA_DEFAULT_BASE_URL,
      headers: bearerAuth(config.apiKey),
      mapError: mapLumaHttpError,
    });
  }

  async submit(req: ProviderSubmitRequest, ctx?: ProviderCallContext): Promise<ProviderSubmitResult> {
    const body: Record<string, unknown> = {
      model: req.model,
      prompt: req.prompt,
      aspect_ratio: req.aspectRatio,
      duration: `${req.durationSeconds}s`,
      generation_type: 'video',
    };
    if (req.resolution) body.resolution = req.resolution;
    if (req.imageUrl) body.keyframes = { frame0: { type: 'image', url: req.imageUrl } };
    if (req.callbackUrl) body.callback_url = withCorrelation(req.callbackUrl, req.submissionKey);
    return createTask(
      this.http,
      { path: '/generations/video', json: body, submissionKey: req.submissionKey },
      ctx,
      'luma create answered without an id',
    );
  }

  async check(providerTaskId: string, ctx?: ProviderCallContext): Promise<ProviderCheckResult> {
    const res = await this.http.request<LumaGeneration>({ method: 'GET', path: `/generations/${encodeURIComponent(providerTaskId)}` }, ctx);
    return lumaGenerationToResult(res.body);
  }

  fetchOutput(outputUrl: string, ctx?: ProviderCallContext): Promise<OutputDownload> {
    return this.http.download(outputUrl, ctx, false);
  }

  /** Luma callbacks are unsigned (providers.md §4): a hint to re-check. */
  verifyCallback(_headers: HeaderBag, rawBody: string | Buffer): VerifiedCallback | null {
    return unsignedCallbackById(rawBody);
  }

  async findBySubmissionKey(submissionKey: string, ctx?: ProviderCallContext, notBefore?: Date): Promise<string | null> {
    const marker = `${LUMA_CORRELATION_PARAM}=${correlationId(submissionKey)}`;
    const budget = this.config.reconcileLimit ?? 1000;
    return findInTaskList<LumaGeneration>({
      what: 'luma generations',
      budget,
      page: async (offset) => {
        const res = await this.http.request<LumaGenerationList>({ method: 'GET', path: '/generations', query: { limit: Math.min(LIST_PAGE, budget - offset), offset } }, ctx);
        return { items: res.body?.generations ?? [], last: res.body?.has_more === false };
      },
      match: (g) => ((g.request?.callback_url ?? '').includes(marker) ? g.id : undefined),
      createdAtMs: (g) => (g.created_at ? Date.parse(g.created_at) : undefined),
      notBefore,
    });
  }
}

export function withCorrelation(callbackUrl: string, submissionKey: string): string {
  return withQueryParam(callbackUrl, LUMA_CORRELATION_PARAM, correlationId(submissionKey));
}

/** Luma state → normalized state (providers.md §10). */
export function lumaGenerationToResult(gen: LumaGeneration): ProviderCheckResult {
  const providerStatus = gen.state ?? '(none)';
  switch (gen.state) {
    case 'queued':
      return { state: 'queued', providerStatus };
    case 'dreaming':
      return { state: 'running', providerStatus };
    case 'completed': {
      const url = gen.assets?.video;
      if (!url) return { state: 'failed', providerStatus, error: normalizedError('output_missing', 'luma generation completed without assets.video') };
      return { state: 'succeeded', providerStatus, progress: 1, outputUrl: url };
    }
    case 'failed':
      return { state: 'failed', providerStatus, error: mapLumaFailure(gen.failure_reason) };
    default:
      return unrecognizedStatus(gen.state);
  }
}
