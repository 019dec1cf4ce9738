import type {
  ProviderAdapter,
  ProviderAdapterConfig,
  ProviderCallContext,
  ProviderCapabilities,
  ProviderCheckResult,
  ProviderSubmitRequest,
  ProviderSubmitResult, OutputDownload } from '../adapter/provider-adapter';
import { SUBMISSION_KEY_HEADER } from '../adapter/provider-adapter';
import { ProviderError, normalizedError, unnamedTaskError } from '../adapter/provider-error';
import type { ProviderHttp } from '../http/provider-http';
import { createProviderHttp } from '../http/create-provider-http';
import { mapVeoHttpError, mapVeoOperationError } from './veo-errors';
import { GRPC, type VeoOperation } from './veo-wire';

export const VEO_DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com/v1beta';
// providers.md warning 2: which Veo ids are live changes often; any string is passed through.
export const VEO_MODELS = ['veo-3.1-generate-preview', 'veo-3.1-fast-generate-preview', 'veo-3.0-generate-001', 'veo-2.0-generate-001'] as const;
const MAX_IMAGE_BYTES = 20 * 1024 * 1024;

export interface VeoAdapterConfig extends ProviderAdapterConfig {
  /** `personGeneration` parameter (UNSURE domain: dont_allow | allow_adult | allow_all); omitted when unset. */
  personGeneration?: string;
}

/**
 * Google Veo on the Gemini API: `models/{model}:predictLongRunning` starts an operation, polled
 * by name. No cancel; callbacks (JWT-signed `webhookConfig`) are not used, so reelay polls.
 */
export class VeoAdapter implements ProviderAdapter {
  readonly name = 'veo';
  readonly capabilities: ProviderCapabilities = {
    cancel: false,
    callbacks: false,
    idempotencyKey: false,
    listTasks: false,
    models: VEO_MODELS,
    inlineImage: { maxBytes: MAX_IMAGE_BYTES },
  };
  private readonly http: ProviderHttp;

  constructor(private readonly config: VeoAdapterConfig) {
    this.http = createProviderHttp({
      provider: 'veo',
      config,
      defaultBaseUrl: VEO_DEFAULT_BASE_URL,
      headers: { 'x-goog-api-key': config.apiKey },
      mapError: mapVeoHttpError,
    });
  }

  async submit(req: ProviderSubmitRequest, ctx?: ProviderCallContext): Promise<ProviderSubmitResult> {
    if (req.aspectRatio === '1:1') throw new ProviderError('invalid_request', 'veo supports 16:9 and 9:16 only', { providerCode: 'aspectRatio' });
    const instance: Record<string, unknown> = { prompt: req.prompt };
    // The Gemini API takes images inline only (gcsUri is Vertex-only), so reelay fetches it here.
    if (req.imageUrl) instance.image = await this.inlineImage(req.imageUrl, ctx);
    const parameters: Record<string, unknown> = {
      sampleCount: 1,
      durationSeconds: req.durationSeconds,
      aspectRatio: req.aspectRatio,
    };
    if (req.resolution && req.resolution !== '480p') parameters.resolution = req.resolution;
    if (req.negativePrompt) parameters.negativePrompt = req.negativePrompt;
    if (this.config.personGeneration) parameters.personGeneration = this.config.personGeneration;
    // `seed` is Vertex-only (the SDK refuses it on the Gemini API), so it is not sent.
    const res = await this.http.request<VeoOperation>(
      {
        method: 'POST',
        path: `/models/${encodeURIComponent(req.model)}:predictLongRunning`,
        json: { instances: [instance], parameters },
        headers: { [SUBMISSION_KEY_HEADER]: req.submissionKey },
      },
      ctx,
    );
    if (!res.body?.name) throw unnamedTaskError('veo predictLongRunning answered without an operation name');
    return { providerTaskId: res.body.name };
  }

  async check(providerTaskId: string, ctx?: ProviderCallContext): Promise<ProviderCheckResult> {
    if (!/^[A-Za-z0-9._/-]+$/.test(providerTaskId)) throw new ProviderError('invalid_request', 'veo operation name has unexpected characters');
    // The operation name contains slashes and is used verbatim as the path.
    const res = await this.http.request<VeoOperation>({ method: 'GET', path: `/${providerTaskId}` }, ctx);
    return operationToResult(res.body);
  }

  /** Files API downloads need the key; it is only sent to the configured API host. */
  fetchOutput(outputUrl: string, ctx?: ProviderCallContext): Promise<OutputDownload> {
    return this.http.download(outputUrl, ctx, sameOrigin(outputUrl, this.http.baseUrl));
  }

  /**
   * The image's bytes for the request. Callers pass a `data:` URL (see `capabilities.inlineImage`);
   * a remote URL is still fetched, but follows no redirect and is read only up to the size limit.
   */
  private async inlineImage(url: string, ctx?: ProviderCallContext): Promise<{ bytesBase64Encoded: string; mimeType: string }> {
    const fail = (why: string, cause?: unknown) => new ProviderError('asset_fetch', `veo input image ${why}`, cause === undefined ? {} : { cause });
    let res: Response;
    try {
      res = await (this.config.fetch ?? fetch)(url, { redirect: 'error', signal: ctx?.signal ?? AbortSignal.timeout(this.config.timeoutMs ?? 30_000) });
    } catch (e) {
      throw fail(`fetch failed: ${e instanceof Error ? e.message : String(e)}`, e);
    }
    if (!res.ok) throw new ProviderError('asset_fetch', `veo input image fetch → HTTP ${res.status}`, { httpStatus: res.status });
    let bytes: Buffer;
    try {
      bytes = await readCapped(res, MAX_IMAGE_BYTES);
    } catch (e) {
      throw fail(`could not be read: ${e instanceof Error ? e.message : String(e)}`, e);
    }
    if (bytes.length === 0) throw fail('is empty');
    const mimeType = (res.headers.get('content-type') ?? 'image/png').split(';')[0].trim();
    return { bytesBase64Encoded: bytes.toString('base64'), mimeType };
  }
}

/** A response body, refused as soon as it declares or reaches more than `maxBytes`. */
async function readCapped(res: Response, maxBytes: number): Promise<Buffer> {
  const tooLarge = () => new Error(`is over ${maxBytes} bytes`);
  if (Number(res.headers.get('content-length') ?? 0) > maxBytes) {
    await res.body?.cancel();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of (res.body ?? []) as AsyncIterable<Uint8Array>) {
    total += chunk.length;
    if (total > maxBytes) throw tooLarge(); // leaving the loop cancels the body
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks, total);
}

/** Operation → status (providers.md §10, Veo row). */
export function operationToResult(op: VeoOperation): ProviderCheckResult {
  if (!op.done) return { state: 'running', providerStatus: 'running' };
  if (op.error) {
    if (op.error.code === GRPC.CANCELLED) return { state: 'canceled', providerStatus: 'cancelled' };
    return { state: 'failed', providerStatus: 'error', error: mapVeoOperationError(op.error) };
  }
  const result = op.response?.generateVideoResponse;
  const samples = result?.generatedSamples ?? [];
  const uri = samples.find((s) => typeof s.video?.uri === 'string' && s.video.uri !== '')?.video?.uri;
  if (uri) return { state: 'succeeded', providerStatus: 'done', progress: 1, outputUrl: uri };
  const filtered = result?.raiMediaFilteredCount ?? 0;
  if (filtered > 0) {
    const reasons = (result?.raiMediaFilteredReasons ?? []).join('; ');
    return {
      state: 'failed',
      providerStatus: 'rai_filtered',
      error: normalizedError('moderation', `veo filtered ${filtered} sample(s): ${reasons}`.slice(0, 500), { providerCode: 'raiMediaFiltered' }),
    };
  }
  // Inline `encodedVideo` samples are not handled: reelay needs a URL to take custody from.
  const inline = samples.some((s) => s.video?.encodedVideo);
  return {
    state: 'failed',
    providerStatus: 'done',
    error: normalizedError('output_missing', inline ? 'veo returned inline video bytes instead of a uri' : 'veo operation done without samples'),
  };
}

function sameOrigin(url: string, base: string): boolean {
  try {
    return new URL(url).origin === new URL(base).origin;
  } catch {
    return false;
  }
}
