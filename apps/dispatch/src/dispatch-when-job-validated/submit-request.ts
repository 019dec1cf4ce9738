import type { ReferenceImage } from '@reelay/contracts';
import type { JobState } from '@reelay/job-domain';
import type { ProviderAdapter, ProviderSubmitRequest } from '@reelay/providers';
import { assetKey, signedAssetUrl } from '@reelay/storage';
import type { DispatchJobDeps } from './dispatch-job.deps';
import { ReferenceImageUnavailable } from './fetch-reference-image';
import { sendsCallbacks } from './provider-abilities';

/** How long a provider may take to fetch an uploaded image by its signed link (a job may wait in its queue). */
const ASSET_LINK_TTL_MS = 24 * 3600_000;

/**
 * The reference image as a URL the provider can use: the user's own URL (already checked by
 * intake); for an uploaded asset, a signed link to the gateway where one can be made (providers
 * that fetch URLs may refuse `data:` URLs or cap them well below our upload limit), else the
 * image inlined as a `data:` URL — always for a provider that takes images inline.
 */
async function referenceImageUrl(deps: DispatchJobDeps, job: JobState, adapter: ProviderAdapter): Promise<string | undefined> {
  const ref = imageToSend(job);
  if (!ref) return undefined;
  if ('url' in ref) {
    const inline = adapter.capabilities.inlineImage;
    if (inline && deps.fetchReferenceImage) return deps.fetchReferenceImage(ref.url, inline.maxBytes);
    const maxLength = adapter.capabilities.dataUrlMaxLength;
    if (adapter.capabilities.userLinksInline && maxLength && deps.fetchReferenceImage) {
      try {
        // Room for a prefix longer than any image type's (`data:image/jpeg;base64,`).
        return await deps.fetchReferenceImage(ref.url, inlineMaxBytes(maxLength, 32));
      } catch (err) {
        if (err instanceof ReferenceImageUnavailable && err.tooLarge) return ref.url;
        throw err;
      }
    }
    return ref.url;
  }
  if (!takesReferenceImage(deps, job, adapter)) throw new UploadNeedsLinkError(adapter.name);
  const info = await deps.storage.stat(assetKey(ref.assetId));
  if (!info?.contentType) throw new MissingAssetError(ref.assetId);
  const links = deps.assetUrls;
  const linkRefused = adapter.capabilities.linksOverHttpsOnly && !/^https:/i.test(links?.publicBaseUrl ?? '');
  if (links && !linkRefused && !adapter.capabilities.inlineImage) return signedAssetUrl(links, ref.assetId, new Date(deps.now().getTime() + ASSET_LINK_TTL_MS));
  const prefix = `data:${info.contentType};base64,`;
  const maxLength = adapter.capabilities.dataUrlMaxLength;
  if (maxLength && info.bytes > inlineMaxBytes(maxLength, prefix.length)) throw new InlineImageTooLargeError(adapter.name, inlineMaxBytes(maxLength, prefix.length));
  return prefix + (await deps.storage.read(assetKey(ref.assetId))).toString('base64');
}

/** The most bytes a `data:` URL of at most `maxLength` characters holds after a prefix this long (base64: 4 characters per 3 bytes). */
const inlineMaxBytes = (maxLength: number, prefixLength: number) => Math.floor((maxLength - prefixLength) / 4) * 3;

/** The image providers are sent: the copy intake fitted to the model, when it made one, else the job's own. */
function imageToSend(job: JobState): ReferenceImage | null {
  return job.referenceImageFitted ? { assetId: job.referenceImageFitted.assetId } : job.referenceImage;
}

/** An upload that must go inline (no link the provider takes) is over the provider's limit for inline images. */
export class InlineImageTooLargeError extends Error {
  constructor(
    readonly provider: string,
    readonly maxBytes: number,
  ) {
    super(`the uploaded image is over ${provider}'s limit for inline images (${maxBytes} bytes); an https PUBLIC_BASE_URL with ASSET_URL_SECRET would send it as a link`);
  }
}

/**
 * Whether the provider can be handed this job's reference image: an uploaded image goes to a
 * provider that fetches links only as a signed link, which needs PUBLIC_BASE_URL and ASSET_URL_SECRET.
 */
export function takesReferenceImage(deps: Pick<DispatchJobDeps, 'assetUrls'>, job: JobState, adapter: ProviderAdapter): boolean {
  const ref = imageToSend(job);
  return !ref || 'url' in ref || Boolean(deps.assetUrls) || !adapter.capabilities.imageByLinkOnly;
}

export const uploadNeedsLinkDetail = (providers: readonly string[]) =>
  `${providers.join(', ')} take${providers.length === 1 ? 's' : ''} reference images only as links, and an uploaded image needs PUBLIC_BASE_URL and ASSET_URL_SECRET set for dispatch to link to it`;

export class UploadNeedsLinkError extends Error {
  constructor(provider: string) {
    super(uploadNeedsLinkDetail([provider]));
  }
}

export class MissingAssetError extends Error {
  constructor(readonly assetId: string) {
    super(`reference image asset ${assetId} is no longer in storage`);
  }
}

export async function submitRequest(deps: DispatchJobDeps, job: JobState, provider: string, submissionKey: string): Promise<ProviderSubmitRequest> {
  const adapter = deps.adapters.get(provider)!;
  const model = deps.catalog.atProvider(job.model, provider)?.providerModel ?? job.model;
  const req: ProviderSubmitRequest = {
    model,
    prompt: job.prompt,
    durationSeconds: job.durationSeconds,
    aspectRatio: job.aspectRatio,
    submissionKey,
  };
  if (job.negativePrompt) req.negativePrompt = job.negativePrompt;
  if (job.resolution) req.resolution = job.resolution;
  if (job.seed !== null) req.seed = job.seed;
  const imageUrl = await referenceImageUrl(deps, job, adapter);
  if (imageUrl) req.imageUrl = imageUrl;
  if (sendsCallbacks(deps, adapter)) {
    req.callbackUrl = `${deps.publicBaseUrl!.replace(/\/+$/, '')}/v1/providers/${encodeURIComponent(provider)}/callback`;
  }
  return req;
}
