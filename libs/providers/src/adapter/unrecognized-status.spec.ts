import { lumaGenerationToResult } from '../luma/luma-adapter';
import { predictionToResult } from '../replicate/replicate-adapter';
import { runwayTaskToResult } from '../runway/runway-adapter';
import { seedanceTaskToResult } from '../seedance/seedance-adapter';

describe('a status word an adapter does not know', () => {
  it.each([
    ['luma', () => lumaGenerationToResult({ id: 'g', state: 'upscaling' }), 'upscaling'],
    ['replicate', () => predictionToResult({ id: 'p', status: 'warming' } as Parameters<typeof predictionToResult>[0]), 'warming'],
    ['runway', () => runwayTaskToResult({ id: 't', status: 'REVIEW' } as Parameters<typeof runwayTaskToResult>[0]), 'REVIEW'],
    ['seedance', () => seedanceTaskToResult({ id: 'c', status: 'preprocessing' } as Parameters<typeof seedanceTaskToResult>[0]), 'preprocessing'],
    ['seedance, no status at all', () => seedanceTaskToResult({ id: 'c' } as Parameters<typeof seedanceTaskToResult>[0]), '(none)'],
  ])('%s: is taken as running and marked unrecognized, not failed', (_name, map, word) => {
    expect(map()).toEqual({ state: 'running', providerStatus: word, unrecognized: true });
  });
});
