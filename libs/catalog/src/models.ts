import type { AspectRatio, ReferenceImageLimits, Resolution } from '@reelay/contracts';

export interface CatalogEntry {
  id: string;
  /** Providers that serve the model, in preference order; the first is the primary. */
  providers: string[];
  /** The model's id at each provider. */
  providerModels: Record<string, string>;
  durations: number[];
  aspectRatios: AspectRatio[];
  resolutions: Resolution[];
  imageToVideo: boolean;
  /** False for a model that makes video from an image only (a job needs a reference image). */
  textToVideo: boolean;
  creditsPerSecond: number;
  /** The provider's own prompt limit, when it is below the API's, in UTF-16 code units. */
  maxPromptLength?: number;
  /** What every provider of the model takes as a reference image, where it is narrower than reelay's own limits. */
  referenceImageLimits?: ReferenceImageLimits;
}

/** Runway's gen4 models: `promptText` of at most 1000 UTF-16 code units. */
const RUNWAY_PROMPT_LIMIT = 1000;

/** Runway fetches `promptImage` URLs itself, over HTTPS only. */
const RUNWAY_IMAGE_LIMITS: ReferenceImageLimits = { httpsOnly: true };

/** Ark's image rules for Seedance: each side above 300 and below 6000 px (301–5999), width/height strictly between 0.4 and 2.5. */
const SEEDANCE_IMAGE_LIMITS: ReferenceImageLimits = { minSide: 301, maxSide: 5999, minAspect: 0.4, maxAspect: 2.5 };

/**
 * Sora takes an `input_reference` only of exactly the video's `size` (a 400 "Inpaint image must match
 * the requested width and height" otherwise); sora-2 makes 720p only.
 */
const SORA_720P_IMAGE_LIMITS: ReferenceImageLimits = {
  exactSizes: [
    { aspectRatio: '16:9', width: 1280, height: 720 },
    { aspectRatio: '9:16', width: 720, height: 1280 },
  ],
};

const ALL_RATIOS: AspectRatio[] = ['16:9', '9:16', '1:1'];

/** The models reelay offers. A model is listed only when one of its providers is configured. */
export const MODELS: CatalogEntry[] = [
  {
    id: 'local-preview',
    providers: ['local'],
    providerModels: { local: 'local-preview' },
    durations: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    aspectRatios: ALL_RATIOS,
    resolutions: ['480p', '720p'],
    imageToVideo: false,
    textToVideo: true,
    creditsPerSecond: 1,
  },
  {
    id: 'seedance-1-0-pro',
    providers: ['seedance'],
    providerModels: { seedance: 'seedance-1-0-pro-250528' },
    durations: [5, 10],
    aspectRatios: ALL_RATIOS,
    resolutions: ['480p', '720p', '1080p'],
    imageToVideo: true,
    textToVideo: true,
    creditsPerSecond: 5,
    referenceImageLimits: SEEDANCE_IMAGE_LIMITS,
  },
  {
    id: 'sora-2',
    providers: ['openai'],
    providerModels: { openai: 'sora-2' },
    durations: [4, 8, 12],
    aspectRatios: ['16:9', '9:16'],
    resolutions: ['720p'],
    imageToVideo: true,
    textToVideo: true,
    creditsPerSecond: 10,
    referenceImageLimits: SORA_720P_IMAGE_LIMITS,
  },
  {
    id: 'gen4.5',
    providers: ['runway'],
    providerModels: { runway: 'gen4.5' },
    durations: [5, 10],
    // Runway's text-to-video takes 1280:720 and 720:1280 only (960:960 is for image to video).
    aspectRatios: ['16:9', '9:16'],
    resolutions: ['720p'],
    imageToVideo: true,
    textToVideo: true,
    creditsPerSecond: 6,
    maxPromptLength: RUNWAY_PROMPT_LIMIT,
    referenceImageLimits: RUNWAY_IMAGE_LIMITS,
  },
  {
    id: 'gen4-turbo',
    providers: ['runway'],
    providerModels: { runway: 'gen4_turbo' },
    durations: [5, 10],
    aspectRatios: ALL_RATIOS,
    resolutions: ['720p'],
    imageToVideo: true,
    textToVideo: false,
    creditsPerSecond: 5,
    maxPromptLength: RUNWAY_PROMPT_LIMIT,
    referenceImageLimits: RUNWAY_IMAGE_LIMITS,
  },
  {
    id: 'ray-2',
    providers: ['luma'],
    providerModels: { luma: 'ray-2' },
    durations: [5, 9],
    aspectRatios: ALL_RATIOS,
    // Luma renders 540p, 720p, 1080p and 4k: no 480p.
    resolutions: ['720p', '1080p'],
    imageToVideo: true,
    textToVideo: true,
    creditsPerSecond: 6,
  },
  {
    id: 'veo-3.1',
    providers: ['veo'],
    providerModels: { veo: 'veo-3.1-generate-preview' },
    durations: [4, 6, 8],
    aspectRatios: ['16:9', '9:16'],
    resolutions: ['720p', '1080p'],
    imageToVideo: true,
    textToVideo: true,
    creditsPerSecond: 20,
  },
  {
    id: 'wan-2.2',
    providers: ['replicate', 'fal'],
    providerModels: { replicate: 'wan-video/wan-2.2-t2v-fast', fal: 'fal-ai/wan/v2.2-a14b/text-to-video' },
    durations: [5],
    aspectRatios: ['16:9', '9:16'],
    resolutions: ['480p', '720p'],
    imageToVideo: false,
    textToVideo: true,
    creditsPerSecond: 3,
  },
  {
    id: 'hailuo-02',
    providers: ['minimax'],
    providerModels: { minimax: 'MiniMax-Hailuo-02' },
    durations: [6, 10],
    aspectRatios: ['16:9'],
    // MiniMax renders 768P (1366x768) where others render 720p; its 1080P takes 6 s only, so it is not offered.
    resolutions: ['720p'],
    imageToVideo: true,
    textToVideo: true,
    creditsPerSecond: 5,
  },
  {
    id: 'kling-2.1',
    // Kling's own API first; fal serves the same model (the same master tier) as the alternate.
    providers: ['kling', 'fal'],
    providerModels: { kling: 'kling-v2-1-master', fal: 'fal-ai/kling-video/v2.1/master/text-to-video' },
    durations: [5, 10],
    aspectRatios: ALL_RATIOS,
    resolutions: ['720p'],
    imageToVideo: false,
    textToVideo: true,
    creditsPerSecond: 4,
    // Kling's prompt limit (fal's Kling endpoints take the same).
    maxPromptLength: 2500,
  },
];
