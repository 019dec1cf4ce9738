import { CatalogModel } from '@reelay/contracts';

/**
 * PLACEHOLDER until a shared model catalog exists in a lib (intake and dispatch need the same data):
 * replace this file's import in build-gateway.ts with the shared catalog and delete it.
 */
export const PLACEHOLDER_CATALOG: readonly CatalogModel[] = [
  { id: 'seedance-1-0-pro', provider: 'seedance', durations: [5, 10], aspectRatios: ['16:9', '9:16', '1:1'], resolutions: ['480p', '720p', '1080p'], imageToVideo: true, creditsPerSecond: 5 },
  { id: 'ray-2', provider: 'luma', durations: [5, 9], aspectRatios: ['16:9', '9:16', '1:1'], resolutions: ['720p', '1080p'], imageToVideo: true, creditsPerSecond: 8 },
  { id: 'gen4-turbo', provider: 'runway', durations: [5, 10], aspectRatios: ['16:9', '9:16', '1:1'], resolutions: ['720p'], imageToVideo: true, creditsPerSecond: 5 },
  { id: 'sora-2', provider: 'openai', durations: [4, 8, 12], aspectRatios: ['16:9', '9:16'], resolutions: ['720p'], imageToVideo: true, creditsPerSecond: 10 },
  { id: 'local-ffmpeg', provider: 'local', durations: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], aspectRatios: ['16:9', '9:16', '1:1'], resolutions: ['480p', '720p', '1080p'], imageToVideo: false, creditsPerSecond: 0 },
].map((m) => CatalogModel.parse(m));
