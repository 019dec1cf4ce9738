import { ApiException } from '../errors/api-exception';
import { assertStorableText, findUnstorable, MAX_NESTING } from './storable-text';

describe('findUnstorable', () => {
  it.each([
    ['plain text', { prompt: 'a fox 😀 e\u0301 \u202e' }, null],
    ['a NUL in a value', { prompt: 'a\u0000b' }, 'prompt'],
    ['a lone high surrogate', { prompt: 'x\ud800' }, 'prompt'],
    ['a lone low surrogate deep down', { metadata: { tags: ['ok', '\udfff'] } }, 'metadata.tags.1'],
    ['reversed surrogates', { negativePrompt: '\udc00\ud800' }, 'negativePrompt'],
    ['a NUL in a key', { metadata: { 'a\u0000': 'x' } }, 'metadata'],
    ['a bare string', '\u0000', '(body)'],
    ['numbers and nulls', { a: 1, b: null, c: [true] }, null],
    ['the first of two, in document order', { a: ['ok', { b: '\u0000' }], c: '\ud800' }, 'a.1.b'],
  ])('%s', (_name, value, expected) => {
    expect(findUnstorable(value)?.path ?? null).toBe(expected);
  });

  it('refuses with invalid_request naming the field', () => {
    expect(() => assertStorableText({ prompt: '\ud800' })).toThrow(ApiException);
    try {
      assertStorableText({ prompt: '\ud800' });
    } catch (err) {
      expect(err).toMatchObject({ code: 'invalid_request', status: 400, details: [{ path: 'prompt' }] });
    }
  });

  it('given nesting far past what recursion survives, then it answers with the path where the limit was passed', () => {
    const deep = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`) as unknown;
    expect(findUnstorable(deep)).toEqual({ path: Array.from({ length: MAX_NESTING }, () => '0').join('.'), message: expect.stringContaining(`${MAX_NESTING} levels`) });
    let ok: unknown = 'leaf';
    for (let i = 0; i < MAX_NESTING; i++) ok = { k: ok };
    expect(findUnstorable(ok)).toBeNull();
    expect(() => assertStorableText({ metadata: deep })).toThrow(expect.objectContaining({ code: 'invalid_request', status: 400, message: 'The request is nested too deeply.' }));
  });
});
