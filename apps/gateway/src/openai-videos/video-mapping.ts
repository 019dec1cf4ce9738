import type { Catalog } from '@reelay/catalog';
import type { AspectRatio, Job, JobStatus, OpenAIVideo, OpenAIVideoStatus, Resolution } from '@reelay/contracts';

const STATUS: Record<JobStatus, OpenAIVideoStatus> = {
  queued: 'queued',
  validating: 'queued',
  running: 'in_progress',
  delayed: 'in_progress',
  succeeded: 'completed',
  failed: 'failed',
  canceled: 'failed',
};

/** Frame sizes by aspect ratio and resolution; the first size per pair is the one reported back. */
const SIZES: { size: string; aspectRatio: AspectRatio; resolution: Resolution }[] = [
  { size: '1280x720', aspectRatio: '16:9', resolution: '720p' },
  { size: '720x1280', aspectRatio: '9:16', resolution: '720p' },
  { size: '720x720', aspectRatio: '1:1', resolution: '720p' },
  { size: '854x480', aspectRatio: '16:9', resolution: '480p' },
  { size: '480x854', aspectRatio: '9:16', resolution: '480p' },
  { size: '480x480', aspectRatio: '1:1', resolution: '480p' },
  { size: '1920x1080', aspectRatio: '16:9', resolution: '1080p' },
  { size: '1080x1920', aspectRatio: '9:16', resolution: '1080p' },
  { size: '1080x1080', aspectRatio: '1:1', resolution: '1080p' },
  // Sora's larger sizes, close to 16:9.
  { size: '1792x1024', aspectRatio: '16:9', resolution: '1080p' },
  { size: '1024x1792', aspectRatio: '9:16', resolution: '1080p' },
];

export const SUPPORTED_SIZES = SIZES.map((s) => s.size);

const unixSeconds = (iso: string | null) => (iso ? Math.floor(Date.parse(iso) / 1000) : null);

export function sizeOf(aspectRatio: AspectRatio, resolution: Resolution | null): string {
  const r = resolution ?? '720p';
  return SIZES.find((s) => s.aspectRatio === aspectRatio && s.resolution === r)?.size ?? '1280x720';
}

/** `size` → aspect ratio and resolution; null for a size reelay has no mapping for. */
export function parseSize(size: string): { aspectRatio: AspectRatio; resolution: Resolution } | null {
  const found = SIZES.find((s) => s.size === size);
  return found ? { aspectRatio: found.aspectRatio, resolution: found.resolution } : null;
}

/** A reelay job as OpenAI's video object; the video id is the job id. */
export function toOpenAIVideo(job: Job): OpenAIVideo {
  const status = STATUS[job.status];
  const terminal = status === 'completed' || status === 'failed';
  return {
    id: job.id,
    object: 'video',
    created_at: unixSeconds(job.createdAt) ?? 0,
    completed_at: terminal ? unixSeconds(job.completedAt ?? job.updatedAt) : null,
    expires_at: unixSeconds(job.output?.expiresAt ?? null),
    model: job.model,
    progress: status === 'completed' ? 100 : (job.progress ?? 0),
    seconds: String(job.durationSeconds),
    size: sizeOf(job.aspectRatio, job.resolution),
    status,
    error: job.status === 'failed' ? { code: job.errorCode ?? 'unknown_provider_error', message: job.message } : job.status === 'canceled' ? { code: 'canceled', message: job.message } : null,
    prompt: job.prompt,
    remixed_from_video_id: job.parentJobId ?? null,
  };
}

/**
 * An OpenAI model name → a reelay catalog id: catalog ids as they are; `sora-2`, `sora-2-pro` and
 * their dated snapshots to the undated id when the catalog offers it. Without a model, OpenAI's
 * default (`sora-2`) when offered, else the first model of the catalog.
 */
export function resolveModel(catalog: Catalog, name: string | undefined): string | null {
  if (name === undefined) return catalog.get('sora-2') ? 'sora-2' : (catalog.list()[0]?.id ?? null);
  if (catalog.get(name)) return name;
  const undated = undatedModel(name);
  return undated !== name && catalog.get(undated) ? undated : null;
}

/** A dated OpenAI snapshot name (`sora-2-2025-10-06`) as the model it pins; any other name as it is. */
export const undatedModel = (name: string) => name.replace(/^(sora-2(?:-pro)?)-\d{4}-\d{2}-\d{2}$/, '$1');

const PARAM_BY_FIELD: Record<string, string> = {
  durationSeconds: 'seconds',
  aspectRatio: 'size',
  resolution: 'size',
  referenceImage: 'input_reference',
};

/** A reelay detail path (e.g. `durationSeconds`, `referenceImage.assetId`) as the OpenAI request parameter. */
export function openAIParam(path: string): string {
  const head = path.split('.')[0];
  return Object.hasOwn(PARAM_BY_FIELD, head) ? PARAM_BY_FIELD[head] : path;
}

/** `seconds` left out: OpenAI's default (4), or the model's shortest video when it makes no 4 s one. */
export function defaultSeconds(durations: readonly number[] | undefined): number {
  if (!durations?.length || durations.includes(4)) return 4;
  return Math.min(...durations);
}
