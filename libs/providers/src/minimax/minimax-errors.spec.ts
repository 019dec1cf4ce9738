import { baseRespError } from './minimax-errors';

const error = (code: number, unknown?: 'final' | 'retry') => {
  const err = baseRespError({ status_code: code, status_msg: 'msg' }, 'POST /v1/video_generation', unknown);
  return err && { kind: err.kind, retryable: err.retryable, providerCode: err.providerCode };
};

describe('baseRespError (MiniMax base_resp codes)', () => {
  it('given code 0 or none, then there is no error', () => {
    expect(baseRespError({ status_code: 0, status_msg: 'success' }, 'x')).toBeNull();
    expect(baseRespError(undefined, 'x')).toBeNull();
  });

  it('given a server fault MiniMax says to retry later, then it is retryable, also on a submit', () => {
    expect(error(1000)).toEqual({ kind: 'server', retryable: true, providerCode: '1000' });
    expect(error(1013)).toEqual({ kind: 'server', retryable: true, providerCode: '1013' });
    expect(error(1039)).toEqual({ kind: 'rate_limited', retryable: true, providerCode: '1039' });
  });

  it('given an unknown code, then a submit is not retried blindly and a status read is', () => {
    expect(error(4321)).toEqual({ kind: 'server', retryable: false, providerCode: '4321' });
    expect(error(1001)).toEqual({ kind: 'server', retryable: false, providerCode: '1001' });
    expect(error(4321, 'retry')).toEqual({ kind: 'server', retryable: true, providerCode: '4321' });
  });

  it('keeps the known refusals as they are', () => {
    expect(error(1026)).toMatchObject({ kind: 'moderation', retryable: false });
    expect(error(2013, 'retry')).toMatchObject({ kind: 'invalid_request', retryable: false });
  });
});
