import { createHash } from 'node:crypto';
import { unrecognizedStatus } from '../adapter/unrecognized-status';
import { findInTaskList } from '../adapter/find-in-task-list';
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
import { normalizedError, ProviderError } from '../adapter/provider-error';
import { unsignedCallbackById, type HeaderBag } from '../adapter/callback-helpers';
import type { ProviderHttp } from '../http/provider-http';
import { bearerAuth, createProviderHttp } from '../http/create-provider-http';
import { createTask } from '../http/create-task';
import { mapSeedanceHttpError, mapSeedanceTaskError } from './seedance-errors';
import type { ArkContentItem, ArkTask } from './seedance-wire';

export const SEEDANCE_DEFAULT_BASE_URL = 'https://ark.ap-southeast.bytepluses.com/api/v3';

export const SEEDANCE_MODELS = [
  'seedance-1-0-pro-250528',
  'seedance-1-0-pro-fast-251015',
  'seedance-1-0-lite-t2v-250428',
  'seedance-1-0-lite-i2v-250428',
  'seedance-1-5-pro-251215',
  'dreamina-seedance-2-0-260128',
  'dreamina-seedance-2-0-fast-260128',
] as const;

export interface SeedanceAdapterConfig extends ProviderAdapterConfig {
  /**
   * Ark has no metadata field. With `safety_identifier`, reelay puts a hash of the submission key
   * there (it is echoed by retrieve/list) so a crashed submit can be found again by listing.
   * UNSURE (providers.md §1) whether every model echoes it, hence opt-in.
   */
  correlation?: 'none' | 'safety_identifier';
  /** `body` (strict, recommended) or legacy `text` commands appended to the prompt. */
  paramStyle?: 'body' | 'text';
  /** How many list pages reconciliation scans (newest first), and how many tasks a page holds (Ark allows up to 500). */
  reconcilePages?: number;
  reconcilePageSize?: number;
}

const TASKS = '/contents/generations/tasks';

export class SeedanceAdapter implements ProviderAdapter {
  readonly name = 'seedance';
  readonly capabilities: ProviderCapabilities;
  private readonly http: ProviderHttp;

  constructor(private readonly config: SeedanceAdapterConfig) {
    this.capabilities = {
      cancel: true, // queued tasks only; a running task answers an error
      callbacks: true,
      idempotencyKey: false,
      listTasks: config.correlation === 'safety_identifier',
      models: SEEDANCE_MODELS,
    };
    this.http = createProviderHttp({
      provider: 'seedance',
      config,
      defaultBaseUrl: SEEDANCE_DEFAULT_BASE_URL,
      headers: bearerAuth(config.apiKey),
      mapError: mapSeedanceHttpError,
    });
  }

  async submit(req: ProviderSubmitRequest, ctx?: ProviderCallContext): Promise<ProviderSubmitResult> {
    refuseUnsupported(req);
    const textStyle = this.config.paramStyle === 'text';
    let text = req.prompt;
    if (textStyle) {
      text += ` --ratio ${req.aspectRatio} --duration ${req.durationSeconds}`;
      if (req.resolution) text += ` --resolution ${req.resolution}`;
      if (req.seed !== undefined) text += ` --seed ${req.seed}`;
    }
    const content: ArkContentItem[] = [{ type: 'text', text }];
    if (req.imageUrl) content.push({ type: 'image_url', image_url: { url: req.imageUrl }, role: 'first_frame' });
    const body: Record<string, unknown> = { model: req.model, content };
    if (!textStyle) {
      body.ratio = req.aspectRatio;
      body.duration = req.durationSeconds;
      if (req.resolution) body.resolution = req.resolution;
      if (req.seed !== undefined) body.seed = req.seed;
    }
    if (req.callbackUrl) body.callback_url = req.callbackUrl;
    if (this.config.correlation === 'safety_identifier') body.safety_identifier = correlationId(req.submissionKey);
    return createTask(this.http, { path: TASKS, json: body, submissionKey: req.submissionKey }, ctx, 'seedance create answered without an id');
  }

  async check(providerTaskId: string, ctx?: ProviderCallContext): Promise<ProviderCheckResult> {
    const res = await this.http.request<ArkTask>({ method: 'GET', path: `${TASKS}/${encodeURIComponent(providerTaskId)}` }, ctx);
    return seedanceTaskToResult(res.body);
  }

  fetchOutput(outputUrl: string, ctx?: ProviderCallContext): Promise<OutputDownload> {
    // Presigned TOS URL: no auth header (sending ours to a storage host would leak it).
    return this.http.download(outputUrl, ctx, false);
  }

  async cancel(providerTaskId: string, ctx?: ProviderCallContext): Promise<CancelOutcome> {
    await this.http.request({ method: 'DELETE', path: `${TASKS}/${encodeURIComponent(providerTaskId)}` }, ctx);
    return 'stopped';
  }

  /** Ark callbacks are unsigned (providers.md §1): a hint to re-check, never trusted as a result. */
  verifyCallback(_headers: HeaderBag, rawBody: string | Buffer): VerifiedCallback | null {
    return unsignedCallbackById(rawBody);
  }

  async findBySubmissionKey(submissionKey: string, ctx?: ProviderCallContext, notBefore?: Date): Promise<string | null> {
    if (this.config.correlation !== 'safety_identifier') return null;
    const wanted = correlationId(submissionKey);
    const pageSize = this.config.reconcilePageSize ?? 500;
    return findInTaskList<ArkTask>({
      what: 'seedance tasks',
      budget: (this.config.reconcilePages ?? 3) * pageSize,
      page: async (read) => {
        const page = read / pageSize + 1;
        const res = await this.http.request<{ total?: number; items?: ArkTask[] }>({ method: 'GET', path: TASKS, query: { page_num: page, page_size: pageSize } }, ctx);
        const items = res.body?.items ?? [];
        const total = res.body?.total;
        return { items, last: items.length < pageSize || (total !== undefined && page * pageSize >= total) };
      },
      match: (t) => (t.safety_identifier === wanted ? t.id : undefined),
      createdAtMs: (t) => (t.created_at === undefined ? undefined : t.created_at * 1000), // Ark's are in seconds
      notBefore,
    });
  }
}

/** Ark status → normalized state (providers.md §10). */
export function seedanceTaskToResult(task: ArkTask): ProviderCheckResult {
  const providerStatus = task.status;
  switch (task.status) {
    case 'queued':
      return { state: 'queued', providerStatus };
    case 'running':
      return { state: 'running', providerStatus };
    case 'succeeded': {
      const url = task.content?.video_url;
      if (!url) {
        return { state: 'failed', providerStatus, error: normalizedError('output_missing', 'seedance task succeeded without content.video_url') };
      }
      return { state: 'succeeded', outputUrl: url, providerStatus };
    }
    case 'failed':
      return { state: 'failed', providerStatus, error: mapSeedanceTaskError(task.error?.code, task.error?.message) };
    case 'expired':
      return {
        state: 'failed',
        providerStatus,
        error: normalizedError('timeout', 'seedance task expired (execution_expires_after elapsed)', {
          providerCode: 'expired',
          retryable: false,
        }),
      };
    case 'cancelled':
      return { state: 'canceled', providerStatus };
    default:
      return unrecognizedStatus(task.status);
  }
}

export function correlationId(submissionKey: string): string {
  return `reelay-${createHash('sha256').update(submissionKey).digest('hex').slice(0, 40)}`;
}


/**
 * What Ark refuses for a model generation (providers.md §1), refused here before the call: 1.x takes
 * 2–12 s, 2.0 4–15 s; 2.0 takes no seed. (reelay asks for no `4k`, which is 2.0 base only.)
 */
function refuseUnsupported(req: ProviderSubmitRequest): void {
  const v2 = req.model.includes('seedance-2-0');
  const refuse = (field: string, why: string) => {
    throw new ProviderError('invalid_request', `seedance ${req.model}: ${why}`, { providerCode: field });
  };
  const [min, max] = v2 ? [4, 15] : [2, 12];
  if (req.durationSeconds < min || req.durationSeconds > max) refuse('duration', `takes ${min} to ${max} s, not ${req.durationSeconds}`);
  if (v2 && req.seed !== undefined) refuse('seed', 'takes no seed');
}
