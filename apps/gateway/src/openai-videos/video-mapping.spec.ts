import { Catalog } from '@reelay/catalog';
import type { Job } from '@reelay/contracts';
import { exampleJob } from '../openapi/examples';
import { toOpenAIErrorResponse } from './openai-error';
import { parseSize, resolveModel, sizeOf, SUPPORTED_SIZES, toOpenAIVideo } from './video-mapping';

describe('OpenAI video mapping', () => {
  it.each([
    ['queued', 'queued'],
    ['validating', 'queued'],
    ['running', 'in_progress'],
    ['delayed', 'in_progress'],
    ['succeeded', 'completed'],
    ['failed', 'failed'],
    ['canceled', 'failed'],
  ] as const)('status %s → %s', (status, expected) => expect(toOpenAIVideo({ ...exampleJob, status }).status).toBe(expected));

  it('carries every OpenAI field, with unix seconds and the error of a failed or canceled job', () => {
    const failed: Job = { ...exampleJob, status: 'failed', errorCode: 'provider_timeout', message: 'The provider did not return a result in time.', completedAt: '2026-11-28T10:01:00.000Z' };
    expect(toOpenAIVideo(failed)).toEqual({
      id: exampleJob.id, object: 'video', created_at: Date.parse(exampleJob.createdAt) / 1000, completed_at: Date.parse('2026-11-28T10:01:00.000Z') / 1000, expires_at: null,
      model: 'local-preview', progress: 40, seconds: '4', size: '1280x720', status: 'failed', error: { code: 'provider_timeout', message: 'The provider did not return a result in time.' },
      prompt: exampleJob.prompt, remixed_from_video_id: null,
    });
    expect(toOpenAIVideo({ ...exampleJob, status: 'canceled', message: 'This video was canceled.' }).error).toEqual({ code: 'canceled', message: 'This video was canceled.' });
    expect(toOpenAIVideo({ ...exampleJob, status: 'succeeded', progress: 90 }).progress).toBe(100);
  });

  it('round-trips every supported size', () => {
    for (const size of SUPPORTED_SIZES.filter((s) => !s.includes('1792') && !s.includes('1024'))) {
      const s = parseSize(size)!;
      expect(sizeOf(s.aspectRatio, s.resolution)).toBe(size);
    }
    expect(parseSize('1792x1024')).toEqual({ aspectRatio: '16:9', resolution: '1080p' });
    expect(parseSize('1000x1000')).toBeNull();
  });

  it('maps OpenAI model names onto the catalog', () => {
    const withSora = new Catalog(['local', 'openai'], undefined, { simulated: ['openai'] });
    expect(resolveModel(withSora, undefined)).toBe('sora-2');
    expect(resolveModel(withSora, 'sora-2-2025-10-06')).toBe('sora-2');
    expect(resolveModel(withSora, 'local-preview')).toBe('local-preview');
    expect(resolveModel(withSora, 'sora-2-pro')).toBeNull();
    const local = new Catalog(['local']);
    expect(resolveModel(local, undefined)).toBe('local-preview');
    expect(resolveModel(local, 'sora-2')).toBeNull();
  });

  it('turns api.md errors into OpenAI\'s envelope, 422 as 400 with the OpenAI parameter name', () => {
    const r = toOpenAIErrorResponse({ status: 422, headers: {}, body: { error: { code: 'unsupported_settings', message: 'No.', details: [{ path: 'durationSeconds', message: 'supports 5, 10' }] } } });
    expect(r).toEqual({ status: 400, headers: {}, body: { error: { message: 'No. seconds: supports 5, 10', type: 'invalid_request_error', param: 'seconds', code: 'unsupported_settings' } } });
    expect(toOpenAIErrorResponse({ status: 429, headers: { 'Retry-After': '2' }, body: { error: { code: 'rate_limited', message: 'Slow.' } } })).toEqual({
      status: 429, headers: { 'Retry-After': '2' }, body: { error: { message: 'Slow.', type: 'rate_limit_error', param: null, code: 'rate_limited' } },
    });
  });
});
