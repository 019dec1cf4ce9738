import { Catalog } from './catalog';
import { imageFitFor } from './image-fit';

const SEEDANCE = { minSide: 301, maxSide: 5999, minAspect: 0.4, maxAspect: 2.5 };

describe('imageFitFor: what is done to a reference image so the model takes it', () => {
  it('leaves an image the model takes as it is, and any image of a model without limits', () => {
    expect(imageFitFor(SEEDANCE, '16:9', 1280, 720)).toBeNull();
    expect(imageFitFor(undefined, '16:9', 9000, 10)).toBeNull();
    expect(imageFitFor({ httpsOnly: true }, '16:9', 9000, 10)).toBeNull();
  });

  it('scales a too-large image down and a too-small one up, keeping its shape', () => {
    expect(imageFitFor(SEEDANCE, '16:9', 8000, 4000)).toEqual({ crop: null, width: 5999, height: 3000 });
    expect(imageFitFor(SEEDANCE, '16:9', 200, 100)).toEqual({ crop: null, width: 602, height: 301 });
  });

  it('cuts the middle out of an image whose shape is out of bounds, strictly inside them (the bounds are open)', () => {
    const wide = imageFitFor(SEEDANCE, '16:9', 3000, 1000)!;
    expect(wide).toEqual({ crop: { width: 2499, height: 1000 }, width: 2499, height: 1000 });
    expect(wide.width / wide.height).toBeLessThan(2.5);
    const tall = imageFitFor(SEEDANCE, '9:16', 400, 2000)!;
    expect(tall.crop).toEqual({ width: 400, height: 999 });
    expect(tall.width / tall.height).toBeGreaterThan(0.4);
  });

  it('crops and then scales an image that is both the wrong shape and too small, still inside the bounds after rounding', () => {
    const fit = imageFitFor(SEEDANCE, '16:9', 900, 120)!;
    expect(fit.crop).toEqual({ width: 299, height: 120 });
    expect(Math.min(fit.width, fit.height)).toBeGreaterThanOrEqual(301);
    expect(fit.width / fit.height).toBeLessThan(2.5);
    expect(fit.width / fit.height).toBeGreaterThan(0.4);
  });

  it("makes an image exactly the video's size where the model wants that: the middle of the video's shape, scaled", () => {
    const sora = { exactSizes: [{ aspectRatio: '16:9' as const, width: 1280, height: 720 }, { aspectRatio: '9:16' as const, width: 720, height: 1280 }] };
    expect(imageFitFor(sora, '16:9', 1280, 720)).toBeNull();
    expect(imageFitFor(sora, '16:9', 2560, 1440)).toEqual({ crop: null, width: 1280, height: 720 });
    expect(imageFitFor(sora, '16:9', 800, 600)).toEqual({ crop: { width: 800, height: 450 }, width: 1280, height: 720 });
    expect(imageFitFor(sora, '9:16', 800, 600)).toEqual({ crop: { width: 338, height: 600 }, width: 720, height: 1280 });
  });
});

describe('catalog: reference images fitted per model', () => {
  const catalog = new Catalog(['openai', 'seedance'], undefined, { simulated: ['openai'] });

  it("fits for the job's aspect ratio and names the exact size when one is wrong", () => {
    expect(catalog.imageFit('sora-2', '9:16', 720, 1280)).toBeNull();
    expect(catalog.imageFit('sora-2', '16:9', 720, 1280)).toEqual({ crop: { width: 720, height: 405 }, width: 1280, height: 720 });
    expect(catalog.imageProblem('sora-2', '16:9', 720, 1280)).toBe("sora-2 takes a reference image of exactly the video's size, 1280x720 for 16:9; this one is 720x1280.");
    expect(catalog.imageProblem('sora-2', '16:9', 1280, 720)).toBeNull();
    expect(catalog.imageFit('seedance-1-0-pro', '16:9', 6000, 1000)).toEqual({ crop: { width: 2499, height: 1000 }, width: 2499, height: 1000 });
    expect(catalog.list().find((m) => m.id === 'sora-2')?.referenceImageLimits?.exactSizes).toHaveLength(2);
  });
});
