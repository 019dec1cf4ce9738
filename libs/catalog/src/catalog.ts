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
    if (!request.referenceImage && !model.textToVideo) {
      problems.push({ path: 'referenceImage', message: `${model.id} makes video from an image only: add a reference image.` });
    }
    return problems;
  }

  price(modelId: string, durationSeconds: number): number {
    const model = this.get(modelId);
    if (!model) throw new Error(`Unknown model ${modelId}`);
    return model.creditsPerSecond * durationSeconds;
  }
}
