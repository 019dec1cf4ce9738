import { outputDifferences } from './output-differences';

const asked = { durationSeconds: 5, resolution: '720p' as const, aspectRatio: '16:9' as const };
const file = { durationSeconds: 5.04, width: 1280, height: 720 };

describe('outputDifferences: the delivered file against the request', () => {
  it('none when the file is what was asked, within the providers\' rounding of length and shape', () => {
    expect(outputDifferences(asked, file)).toEqual([]);
    expect(outputDifferences(asked, { ...file, durationSeconds: 4.6 })).toEqual([]);
    // Sora's 1792x1024 for 16:9 is 1.6 % off the ratio.
    expect(outputDifferences({ ...asked, resolution: '1080p' }, { ...file, width: 1792, height: 1024 })).toEqual([{ field: 'resolution', requested: '1080p', delivered: '1024p' }]);
    expect(outputDifferences({ ...asked, aspectRatio: '9:16' }, { ...file, width: 720, height: 1280 })).toEqual([]);
  });

  it('names each setting the file does not match', () => {
    expect(outputDifferences(asked, { durationSeconds: 2, width: 320, height: 180 })).toEqual([
      { field: 'durationSeconds', requested: 5, delivered: 2 },
      { field: 'resolution', requested: '720p', delivered: '180p' },
    ]);
    // MiniMax renders 768P where 720p was asked.
    expect(outputDifferences(asked, { ...file, width: 1366, height: 768 })).toEqual([{ field: 'resolution', requested: '720p', delivered: '768p' }]);
    expect(outputDifferences({ ...asked, aspectRatio: '9:16' }, file)).toEqual([{ field: 'aspectRatio', requested: '9:16', delivered: '1280x720' }]);
    expect(outputDifferences(asked, { ...file, durationSeconds: 10.0417 })).toEqual([{ field: 'durationSeconds', requested: 5, delivered: 10.04 }]);
  });

  it('compares nothing the request left to the provider or the file did not tell', () => {
    expect(outputDifferences({ ...asked, resolution: null }, { ...file, width: 1920, height: 1080 })).toEqual([]);
    expect(outputDifferences(asked, { durationSeconds: null, width: null, height: null })).toEqual([]);
  });
});
