import type { AspectRatio, ReferenceImageLimits } from '@reelay/contracts';

/** How to change an image so the model takes it: cut `crop` out of its middle, then scale that to `width`×`height`. */
export interface ImageFit {
  crop: { width: number; height: number } | null;
  width: number;
  height: number;
}

interface Size {
  width: number;
  height: number;
}

const sameSize = (a: Size, b: Size) => a.width === b.width && a.height === b.height;

/** The middle of `image` with the shape of `target` (as much of the image as that shape allows). */
function coverCrop(image: Size, target: Size): Size {
  if (image.width * target.height > target.width * image.height) {
    return { width: Math.max(1, Math.round((image.height * target.width) / target.height)), height: image.height };
  }
  return { width: image.width, height: Math.max(1, Math.round((image.width * target.height) / target.width)) };
}

/** The middle of `image` whose width over height lies strictly between the bounds (providers state them open). */
function aspectCrop(image: Size, minAspect: number | undefined, maxAspect: number | undefined): Size {
  let { width, height } = image;
  if (maxAspect && width / height >= maxAspect) {
    width = Math.floor(height * maxAspect);
    while (width > 1 && width / height >= maxAspect) width--;
  }
  if (minAspect && width / height <= minAspect) {
    height = Math.floor(width / minAspect);
    while (height > 1 && width / height <= minAspect) height--;
  }
  return { width, height };
}

/** `size` scaled, keeping its shape, until its sides lie in [minSide, maxSide]; then nudged back inside open aspect bounds a rounding may have crossed. */
function scaleIntoSides(size: Size, limits: ReferenceImageLimits): Size {
  const longer = Math.max(size.width, size.height);
  const shorter = Math.min(size.width, size.height);
  let factor = 1;
  if (limits.maxSide && longer > limits.maxSide) factor = limits.maxSide / longer;
  if (limits.minSide && shorter * factor < limits.minSide) factor = limits.minSide / shorter;
  if (factor === 1) return size;
  const clamp = (n: number) => Math.min(limits.maxSide ?? Infinity, Math.max(limits.minSide ?? 1, Math.round(n)));
  let width = clamp(size.width * factor);
  let height = clamp(size.height * factor);
  const { minAspect, maxAspect } = limits;
  while (maxAspect && width / height >= maxAspect && width > (limits.minSide ?? 1)) width--;
  while (minAspect && width / height <= minAspect && height > (limits.minSide ?? 1)) height--;
  return { width, height };
}

/**
 * What to do to a `width`×`height` reference image so that a model with these limits takes it, for a
 * job of `aspectRatio`; null when it takes the image as it is. An image of the wrong shape loses its
 * edges (a center crop, as providers do themselves when an image and the video differ in shape);
 * one of the wrong size is scaled, up or down.
 */
export function imageFitFor(limits: ReferenceImageLimits | undefined, aspectRatio: AspectRatio, width: number, height: number): ImageFit | null {
  if (!limits) return null;
  const image = { width, height };
  const exact = limits.exactSizes?.find((s) => s.aspectRatio === aspectRatio);
  if (exact) {
    if (sameSize(image, exact)) return null;
    const crop = coverCrop(image, exact);
    return { crop: sameSize(crop, image) ? null : crop, width: exact.width, height: exact.height };
  }
  const cropped = aspectCrop(image, limits.minAspect, limits.maxAspect);
  const scaled = scaleIntoSides(cropped, limits);
  if (sameSize(cropped, image) && sameSize(scaled, image)) return null;
  return { crop: sameSize(cropped, image) ? null : cropped, ...scaled };
}
