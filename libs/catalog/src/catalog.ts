import type { CatalogModel, ErrorDetail, SubmitJobRequest } from '@reelay/contracts';
import { MODELS, type CatalogEntry } from './models';

export class Catalog {
  private readonly entries: CatalogEntry[];

  /** `enabledProviders`: providers with configuration; models none of them serve are hidden. */
  constructor(enabledProviders: readonly string[], models: CatalogEntry[] = MODELS) {
    this.entries = models
      .map((m) => ({ ...m, providers: m.providers.filter((p) => enabledProviders.includes(p)) }))
      .filter((m) => m.providers.length > 0);
  }

  get(modelId: string): CatalogEntry | undefined {
    return this.entries.find((m) => m.id === modelId);
  }

  /** The public catalog (GET /v1/models). */
  list(): CatalogModel[] {
    return this.entries.map((m) => ({
      id: m.id,
      provider: m.providers[0],
      alternates: m.providers.slice(1),
      durations: m.durations,
      aspectRatios: m.aspectRatios,
      resolutions: m.resolutions,
      imageToVideo: m.imageToVideo,
      textToVideo: m.textToVideo,
      creditsPerSecond: m.creditsPerSecond,
      ...(m.maxPromptLength ? { maxPromptLength: m.maxPromptLength } : {}),
      ...(m.referenceImageLimits ? { referenceImageLimits: m.referenceImageLimits } : {}),
    }));
  }

  /** Why a well-formed request cannot run on its model (422 unsupported_settings), or [] when it can. */
  unsupportedSettings(request: SubmitJobRequest): ErrorDetail[] {
    const model = this.get(request.model);
    if (!model) return [{ path: 'model', message: `Unknown model "${request.model}". See GET /v1/models.` }];
    const problems: ErrorDetail[] = [];
    if (!model.durations.includes(request.durationSeconds)) {
      problems.push({ path: 'durationSeconds', message: `${model.id} supports durations of ${model.durations.join(', ')} seconds.` });
    }
    if (!model.aspectRatios.includes(request.aspectRatio)) {
      problems.push({ path: 'aspectRatio', message: `${model.id} supports aspect ratios ${model.aspectRatios.join(', ')}.` });
    }
    if (request.resolution && !model.resolutions.includes(request.resolution)) {
      problems.push({ path: 'resolution', message: `${model.id} supports resolutions ${model.resolutions.join(', ')}.` });
    }
    if (model.maxPromptLength && request.prompt.length > model.maxPromptLength) {
      problems.push({ path: 'prompt', message: `${model.id} takes prompts of up to ${model.maxPromptLength} characters; this one has ${request.prompt.length}.` });
    }
    if (request.referenceImage && !model.imageToVideo) {
      problems.push({ path: 'referenceImage', message: `${model.id} does not take a reference image.` });
    }
    const ref = request.referenceImage;
    if (ref && 'url' in ref && model.imageToVideo && model.referenceImageLimits?.httpsOnly && !/^https:/i.test(ref.url)) {
      problems.push({ path: 'referenceImage.url', message: `${model.id} fetches reference images over HTTPS only.` });
    }
    if (!request.referenceImage && !model.textToVideo) {
      problems.push({ path: 'referenceImage', message: `${model.id} makes video from an image only: add a reference image.` });
    }
    return problems;
  }

  /** Why an image of this size does not suit the model's providers, or null when it does (checked once the image is read). */
  imageProblem(modelId: string, width: number, height: number): string | null {
    const limits = this.get(modelId)?.referenceImageLimits;
    if (!limits) return null;
    const { minSide, maxSide, minAspect, maxAspect } = limits;
    if ((minSide && Math.min(width, height) < minSide) || (maxSide && Math.max(width, height) > maxSide)) {
      return `${modelId} takes reference images of ${minSide ?? 1} to ${maxSide ?? 'any number of'} pixels on each side; this one is ${width}x${height}.`;
    }
    const aspect = width / height;
    if ((minAspect && aspect <= minAspect) || (maxAspect && aspect >= maxAspect)) {
      return `${modelId} takes reference images whose width is more than ${minAspect ?? 0} and less than ${maxAspect ?? 'any number of'} times their height; this one is ${width}x${height}.`;
    }
    return null;
  }

  price(modelId: string, durationSeconds: number): number {
    const model = this.get(modelId);
    if (!model) throw new Error(`Unknown model ${modelId}`);
    return model.creditsPerSecond * durationSeconds;
  }
}
