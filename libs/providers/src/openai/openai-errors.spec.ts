import { mapOpenAIHttpError } from './openai-errors';

const info = (status: number, code?: string) => ({ method: 'POST', path: '/videos', status, body: { error: { message: 'm', code } } }) as Parameters<typeof mapOpenAIHttpError>[0];
const detail = (t: string) => t;

describe('OpenAI HTTP errors', () => {
  it('a 409 (a lock held by a concurrent request) is retried and is not the provider failing', () => {
    const err = mapOpenAIHttpError(info(409), detail);
    expect({ kind: err.kind, retryable: err.retryable, notProviderFault: err.notProviderFault }).toEqual({ kind: 'server', retryable: true, notProviderFault: true });
  });

  it('a 5xx is the provider failing', () => {
    const err = mapOpenAIHttpError(info(503), detail);
    expect({ kind: err.kind, notProviderFault: err.notProviderFault }).toEqual({ kind: 'server', notProviderFault: false });
  });
});
