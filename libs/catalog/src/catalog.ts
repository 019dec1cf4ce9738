import type { AspectRatio, CatalogModel, ErrorDetail, SubmitJobRequest } from '@reelay/contracts';
import { imageFitFor, type ImageFit } from './image-fit';
import { MODELS, type CatalogEntry } from './models';
import { RETIREMENTS, type Retirement } from './retirements';

export interface CatalogOptions {
  /** The clock retirements are judged by. */
  now?: () => Date;
  retirements?: readonly Retirement[];
  /** Providers served by the simulator: retirements do not apply to them. */
  simulated?: readonly string[];
}

/**
 * What a user is told about a model whose providers no longer serve it (400 at submit, or the failed
 * job's message); `day` when it was announced, absent when the provider's answer said so.
 */
export function retiredModelMessage(modelId: string, day?: string): string {
  return `${modelId} is no longer available: its provider stopped serving it${day ? ` on ${day}` : ''}. Choose another model (GET /v1/models).`;
}

export class Catalog {
  private readonly entries: CatalogEntry[];
  private readonly now: () => Date;
  private readonly retirements: readonly Retirement[];

  /** `enabledProviders`: providers with configuration; models none of them serve are hidden. */
  constructor(enabledProviders: readonly string[], models: CatalogEntry[] = MODELS, options: CatalogOptions = {}) {
    this.entries = models
      .map((m) => ({ ...m, providers: m.providers.filter((p) => enabledProviders.includes(p)) }))
      .filter((m) => m.providers.length > 0);
    this.now = options.now ?? (() => new Date());
    const simulated = options.simulated ?? [];
    this.retirements = (options.retirements ?? RETIREMENTS).filter((r) => !simulated.includes(r.provider));
  }

  /** The model as it can run now (providers that retired its id left out), or undefined. */
  get(modelId: string): CatalogEntry | undefined {
    const entry = this.entries.find((m) => m.id === modelId);
    return entry && this.current(entry, this.now());
  }

  /** For a configured model that every provider of it has retired: the day the last one stopped serving it. */
  retiredOn(modelId: string): string | null {
    const entry = this.entries.find((m) => m.id === modelId);
    if (!entry || this.current(entry, this.now())) return null;
    return this.lastRetirementDay(entry) ?? null;
  }

  /**
   * For one provider of a configured model: the model id it is asked for (the operator's or the
   * built-in one, retired or not), and the day it stopped serving it when that day has come.
   */
  atProvider(modelId: string, provider: string): { providerModel: string; retiredOn: string | null } | null {
    const entry = this.entries.find((m) => m.id === modelId);
    if (!entry?.providers.includes(provider)) return null;
    return { providerModel: entry.providerModels[provider], retiredOn: this.retiredDay(entry, provider, this.now()) };
  }

  /** Configured models whose providers have all retired them (for the operator's log at start). */
  retiredModels(): { id: string; on: string }[] {
    return this.entries.flatMap((m) => {
      const on = this.retiredOn(m.id);
      return on ? [{ id: m.id, on }] : [];
    });
  }

  /** The public catalog (GET /v1/models). */
  list(): CatalogModel[] {
    const now = this.now();
    return this.entries.flatMap((entry) => {
      const m = this.current(entry, now);
      if (!m) return [];
      const retiresOn = this.lastRetirementDay(m);
      return [
        {
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
          ...(retiresOn ? { retiresOn } : {}),
        },
      ];
    });
  }

  private retirementDay(entry: CatalogEntry, provider: string): string | undefined {
    return this.retirements.find((r) => r.provider === provider && r.providerModel === entry.providerModels[provider])?.on;
  }

  /** The day the provider stopped serving the model's id, once it has come; else null. */
  private retiredDay(entry: CatalogEntry, provider: string, now: Date): string | null {
    const day = this.retirementDay(entry, provider);
    return day !== undefined && now.getTime() >= Date.parse(`${day}T00:00:00Z`) ? day : null;
  }

  /** The day the last of the entry's providers stops serving it; undefined while one of them has no such day. */
  private lastRetirementDay(entry: CatalogEntry): string | undefined {
    const days = entry.providers.map((p) => this.retirementDay(entry, p));
    return days.every((d) => d !== undefined) ? (days as string[]).sort().at(-1) : undefined;
  }

  private current(entry: CatalogEntry, now: Date): CatalogEntry | undefined {
    const providers = entry.providers.filter((p) => !this.retiredDay(entry, p, now));
    if (providers.length === entry.providers.length) return entry;
    return providers.length > 0 ? { ...entry, providers } : undefined;
  }

  /** Why a well-formed request cannot run on its model (422 unsupported_settings), or [] when it can. */
  unsupportedSettings(request: SubmitJobRequest): ErrorDetail[] {
    const model = this.get(request.model);
    if (!model) {
      const retired = this.retiredOn(request.model);
      return [{ path: 'model', message: retired ? retiredModelMessage(request.model, retired) : `Unknown model "${request.model}". See GET /v1/models.` }];
    }
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

  /** How to change a reference image of this size so the model's providers take it for a job of `aspectRatio`; null when they take it as it is. */
  imageFit(modelId: string, aspectRatio: AspectRatio, width: number, height: number): ImageFit | null {
    return imageFitFor(this.get(modelId)?.referenceImageLimits, aspectRatio, width, height);
  }

  /** Why an image of this size does not suit the model's providers for a job of `aspectRatio`, or null when it does (checked once the image is read). */
  imageProblem(modelId: string, aspectRatio: AspectRatio, width: number, height: number): string | null {
    const limits = this.get(modelId)?.referenceImageLimits;
    if (!limits) return null;
    const exact = limits.exactSizes?.find((s) => s.aspectRatio === aspectRatio);
    if (exact && (exact.width !== width || exact.height !== height)) {
      return `${modelId} takes a reference image of exactly the video's size, ${exact.width}x${exact.height} for ${aspectRatio}; this one is ${width}x${height}.`;
    }
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
