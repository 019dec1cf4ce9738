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
import { unrecognizedStatus } from '../adapter/unrecognized-status';
import { ProviderError, normalizedError } from '../adapter/provider-error';
import { parseJsonObject, type HeaderBag } from '../adapter/callback-helpers';
import { verifyStandardWebhook } from '../adapter/standard-webhooks';
import type { ProviderHttp } from '../http/provider-http';
import { bearerAuth, createProviderHttp } from '../http/create-provider-http';
import { createTask } from '../http/create-task';
import { mapReplicateFailure, mapReplicateHttpError } from './replicate-errors';
import type { ReplicatePrediction } from './replicate-wire';

export const REPLICATE_DEFAULT_BASE_URL = 'https://api.replicate.com/v1';
export const REPLICATE_MODELS = ['bytedance/seedance-1-pro', 'bytedance/seedance-1-lite', 'google/veo-3.1', 'kwaivgi/kling-v2.1'] as const;

export interface ReplicateAdapterConfig extends ProviderAdapterConfig {
  /** `whsec_...` signing secret (GET /v1/webhooks/default/secret). Without it callbacks are unsigned hints. */
  webhookSecret?: string;
  /** `Cancel-After` deadline sent with each prediction, e.g. `30m` (`aborted` before start → provider_timeout). */
  cancelAfter?: string;
  /** Renames reelay's input fields for models that use other names (e.g. `{ "image": "first_frame_image" }`). */
  inputNames?: Record<string, string>;
  nowMs?: () => number;
}

/**
 * Replicate predictions. `owner/name` models go to `/models/{owner}/{name}/predictions`;
 * `owner/name:version` or a bare version id go to `/predictions` with `version`.
 */
export class ReplicateAdapter implements ProviderAdapter {
  readonly name = 'replicate';
  readonly capabilities: ProviderCapabilities;
  private readonly http: ProviderHttp;

  constructor(private readonly config: ReplicateAdapterConfig) {
    this.capabilities = {
      cancel: true,
      callbacks: true,
      idempotencyKey: false,
      listTasks: false,
      models: REPLICATE_MODELS,
    };
    this.http = createProviderHttp({
      provider: 'replicate',
      config,
      defaultBaseUrl: REPLICATE_DEFAULT_BASE_URL,
      headers: bearerAuth(config.apiKey),
      secrets: [config.webhookSecret],
      mapError: mapReplicateHttpError,
    });
  }

  async submit(req: ProviderSubmitRequest, ctx?: ProviderCallContext): Promise<ProviderSubmitResult> {
    const input: Record<string, unknown> = {
      prompt: req.prompt,
      duration: req.durationSeconds,
      aspect_ratio: req.aspectRatio,
    };
    if (req.resolution) input.resolution = req.resolution;
    if (req.seed !== undefined) input.seed = req.seed;
    if (req.negativePrompt) input.negative_prompt = req.negativePrompt;
    if (req.imageUrl) input.image = req.imageUrl;
    const renamed = Object.fromEntries(Object.entries(input).map(([k, v]) => [this.config.inputNames?.[k] ?? k, v]));

    const body: Record<string, unknown> = { input: renamed };
    if (req.callbackUrl) {
      body.webhook = req.callbackUrl;
      body.webhook_events_filter = ['start', 'completed'];
    }
    const target = predictionTarget(req.model);
    if (target.version) body.version = target.version;
    const headers = this.config.cancelAfter ? { 'cancel-after': this.config.cancelAfter } : undefined;
    const call = { path: target.path, json: body, submissionKey: req.submissionKey, headers };
    return createTask(this.http, call, ctx, 'replicate create answered without an id');
  }

  async check(providerTaskId: string, ctx?: ProviderCallContext): Promise<ProviderCheckResult> {
    const res = await this.http.request<ReplicatePrediction>({ method: 'GET', path: `/predictions/${encodeURIComponent(providerTaskId)}` }, ctx);
    const result = predictionToResult(res.body);
    // Canceled at or past its Cancel-After deadline: it ran too long. Canceled before it (a cancel on
    // Replicate's dashboard, or reelay's own racing this check) stays canceled.
    if (result.state === 'canceled' && this.config.cancelAfter && endedByDeadline(res.body)) {
      return { state: 'failed', providerStatus: result.providerStatus, error: normalizedError('timeout', `replicate ${providerTaskId} canceled by its Cancel-After deadline (${this.config.cancelAfter})`, { providerCode: 'canceled' }) };
    }
    return result;
  }

  /**
   * The cancel answers the prediction: stopped only when it says canceled. One that had ended first
   * (succeeded and billed, or failed) or is not stopped yet is left for the checks to tell.
   */
  async cancel(providerTaskId: string, ctx?: ProviderCallContext): Promise<CancelOutcome> {
    const res = await this.http.request<ReplicatePrediction>({ method: 'POST', path: `/predictions/${encodeURIComponent(providerTaskId)}/cancel` }, ctx);
    return res.body?.status === 'canceled' ? 'stopped' : 'requested';
  }

  /** Replicate delivery URLs are public (no key needed), so the key is never sent elsewhere. */
  fetchOutput(outputUrl: string, ctx?: ProviderCallContext): Promise<OutputDownload> {
    return this.http.download(outputUrl, ctx, false);
  }

  /**
   * Standard Webhooks signature when a secret is configured (a bad signature → null); without a
   * secret the body is accepted as an unsigned hint that the caller confirms with `check()`.
   */
  verifyCallback(headers: HeaderBag, rawBody: string | Buffer): VerifiedCallback | null {
    const signed = Boolean(this.config.webhookSecret);
    if (signed && !verifyStandardWebhook(this.config.webhookSecret!, headers, rawBody, { nowMs: this.config.nowMs?.() })) return null;
    const prediction = parseJsonObject(rawBody);
    if (typeof prediction?.id !== 'string' || typeof prediction.status !== 'string') return null;
    return { providerTaskId: prediction.id, signed };
  }
}

export function predictionTarget(model: string): { path: string; version?: string } {
  if (/^[0-9a-f]{64}$/.test(model)) return { path: '/predictions', version: model };
  const [ref, version] = model.split(':', 2);
  const [owner, name] = ref.split('/');
  if (!owner || !name) throw new ProviderError('invalid_request', `replicate model must be owner/name[:version], got ${model.slice(0, 80)}`);
  if (version) return { path: '/predictions', version };
  return { path: `/models/${encodeURIComponent(owner)}/${encodeURIComponent(name)}/predictions` };
}

/** A canceled prediction that ended at or after its deadline (Replicate sends `deadline` when a Cancel-After was given). */
function endedByDeadline(p: ReplicatePrediction): boolean {
  const deadline = p.deadline ? Date.parse(p.deadline) : NaN;
  const ended = p.completed_at ? Date.parse(p.completed_at) : NaN;
  return Number.isFinite(deadline) && Number.isFinite(ended) && ended >= deadline;
}

/** Prediction → status (Replicate's statuses: starting, processing, succeeded, failed, canceled, aborted). */
export function predictionToResult(p: ReplicatePrediction): ProviderCheckResult {
  const providerStatus = String(p.status);
  switch (p.status) {
    case 'starting':
      return { state: 'queued', providerStatus };
    case 'processing':
      return { state: 'running', providerStatus };
    case 'succeeded': {
      const url = outputUrl(p.output);
      if (url && !p.data_removed) return { state: 'succeeded', providerStatus, progress: 1, outputUrl: url };
      const why = p.data_removed ? 'output removed by data retention' : 'succeeded without an output url';
      return { state: 'failed', providerStatus, error: normalizedError('output_missing', `replicate ${p.id} ${why}`) };
    }
    case 'failed':
      return { state: 'failed', providerStatus, error: mapReplicateFailure(p.error) };
    case 'aborted':
      // Deadline (`Cancel-After`) reached before the prediction started.
      return { state: 'failed', providerStatus, error: normalizedError('timeout', `replicate ${p.id} aborted before starting`, { providerCode: 'aborted' }) };
    case 'canceled':
      // By a cancel call or by the deadline after the prediction started (providers.md §10).
      return { state: 'canceled', providerStatus };
    default:
      return unrecognizedStatus(p.status);
  }
}

/** Video models return a URL string, sometimes a list of them, sometimes `{ url }` / `{ video }`. */
function outputUrl(output: unknown): string | undefined {
  if (typeof output === 'string' && /^https?:\/\//.test(output)) return output;
  if (Array.isArray(output)) return output.map(outputUrl).find(Boolean);
  if (output && typeof output === 'object') {
    const o = output as Record<string, unknown>;
    return outputUrl(o.url) ?? outputUrl(o.video);
  }
  return undefined;
}
