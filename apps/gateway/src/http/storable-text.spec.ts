import { ApiException } from '../errors/api-exception';
import { assertStorableText, findUnstorableText } from './storable-text';

describe('findUnstorableText', () => {
  it.each([
    ['plain text', { prompt: 'a fox 😀 e\u0301 \u202e' }, null],
    ['a NUL in a value', { prompt: 'a\u0000b' }, 'prompt'],
    ['a lone high surrogate', { prompt: 'x\ud800' }, 'prompt'],
    ['a lone low surrogate deep down', { metadata: { tags: ['ok', '\udfff'] } }, 'metadata.tags.1'],
    ['reversed surrogates', { negativePrompt: '\udc00\ud800' }, 'negativePrompt'],
    ['a NUL in a key', { metadata: { 'a\u0000': 'x' } }, 'metadata'],
    ['a bare string', '\u0000', '(body)'],
    ['numbers and nulls', { a: 1, b: null, c: [true] }, null],
  ])('%s', (_name, value, expected) => {
    expect(findUnstorableText(value)).toBe(expected);
  });

  it('refuses with invalid_request naming the field', () => {
    expect(() => assertStorableText({ prompt: '\ud800' })).toThrow(ApiException);
    try {
      assertStorableText({ prompt: '\ud800' });
    } catch (err) {
      expect(err).toMatchObject({ code: 'invalid_request', status: 400, details: [{ path: 'prompt' }] });
    }
  });
});
