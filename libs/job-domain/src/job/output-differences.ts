import type { AspectRatio, JobOutput, OutputDifference, Resolution } from '@reelay/contracts';

/** Providers round a clip's length to their frame and container timing: within this, it is what was asked. */
const DURATION_TOLERANCE_S = 0.5;
/** Width/height within this share of the ratio asked (1280x720 vs 1792x1024 is 1.6 % off 16:9). */
const RATIO_TOLERANCE = 0.02;

const RATIOS: Record<AspectRatio, number> = { '16:9': 16 / 9, '9:16': 9 / 16, '1:1': 1 };
const SHORT_SIDES: Record<Resolution, number> = { '480p': 480, '720p': 720, '1080p': 1080 };

/**
 * Where the delivered video differs from the request, from what the output copy measured (its MP4
 * header): a length off by more than half a second, a short side other than the resolution's, a
 * shape off the aspect ratio. Settings the request left to the provider, and measures the file
 * did not give, are not compared.
 */
export function outputDifferences(
  requested: { durationSeconds: number; resolution: Resolution | null; aspectRatio: AspectRatio },
  output: Pick<JobOutput, 'durationSeconds' | 'width' | 'height'>,
): OutputDifference[] {
  const differences: OutputDifference[] = [];
  const { durationSeconds, width, height } = output;
  if (durationSeconds !== null && Math.abs(durationSeconds - requested.durationSeconds) > DURATION_TOLERANCE_S) {
    differences.push({ field: 'durationSeconds', requested: requested.durationSeconds, delivered: Math.round(durationSeconds * 100) / 100 });
  }
  if (width && height) {
    const shortSide = Math.min(width, height);
    if (requested.resolution && shortSide !== SHORT_SIDES[requested.resolution]) {
      differences.push({ field: 'resolution', requested: requested.resolution, delivered: `${shortSide}p` });
    }
    const target = RATIOS[requested.aspectRatio];
    if (Math.abs(width / height - target) / target > RATIO_TOLERANCE) {
      differences.push({ field: 'aspectRatio', requested: requested.aspectRatio, delivered: `${width}x${height}` });
    }
  }
  return differences;
}
