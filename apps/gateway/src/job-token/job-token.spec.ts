import { jobTokenSecret, signJobToken, verifyJobToken } from './job-token';

const secret = 'a-job-token-secret-of-32-characters!';
const now = new Date('2026-12-06T00:00:00Z');
const later = (s: number) => new Date(now.getTime() + s * 1000);
const token = signJobToken(secret, 'job_A', { userId: 'user-1', expiresAt: later(900) });

describe('job tokens', () => {
  it('stand for their user on their job until they expire', () => {
    expect(verifyJobToken(secret, 'job_A', token, now)).toEqual({ userId: 'user-1', expiresAt: later(900) });
    expect(verifyJobToken(secret, 'job_A', token, later(899))).toMatchObject({ userId: 'user-1' });
    expect(verifyJobToken(secret, 'job_A', token, later(900))).toBeNull();
  });

  it('are worth nothing for another job, under another secret, or changed in any way', () => {
    expect(verifyJobToken(secret, 'job_B', token, now)).toBeNull();
    expect(verifyJobToken(`${secret}x`, 'job_A', token, now)).toBeNull();
    const [payload, sig] = token.split('.');
    const otherUser = Buffer.from(`user-2\n${Math.floor(later(900).getTime() / 1000)}`).toString('base64url');
    const longer = Buffer.from(`user-1\n${Math.floor(later(99_999).getTime() / 1000)}`).toString('base64url');
    for (const forged of [`${otherUser}.${sig}`, `${longer}.${sig}`, `${payload}.${sig!.slice(0, -2)}AA`, `${payload}`, `${payload}.${sig}.x`, '', '.', 'x'.repeat(5000)]) {
      expect(verifyJobToken(secret, 'job_A', forged, now)).toBeNull();
    }
  });

  it('are signed with JOB_TOKEN_SECRET, else a key derived from the webhook master secret, else not at all', () => {
    expect(jobTokenSecret({ JOB_TOKEN_SECRET: secret, WEBHOOK_MASTER_SECRET: 'master-secret-0123456789' })).toBe(secret);
    const derived = jobTokenSecret({ WEBHOOK_MASTER_SECRET: 'master-secret-0123456789' });
    expect(derived).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(derived).not.toContain('master');
    expect(jobTokenSecret({})).toBeNull();
  });
});
