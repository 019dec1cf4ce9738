import { SubmitJobRequest } from '../api/submit-job-request';
import { deadlineMessage } from './messages';

describe('a deadline in plain words', () => {
  it('names the time allowed in the largest whole unit', () => {
    expect(deadlineMessage(518_400)).toBe('This video was canceled: it was not ready within the 6 days you allowed.');
    expect(deadlineMessage(7200)).toBe('This video was canceled: it was not ready within the 2 hours you allowed.');
    expect(deadlineMessage(3600)).toBe('This video was canceled: it was not ready within the 1 hour you allowed.');
    expect(deadlineMessage(90)).toBe('This video was canceled: it was not ready within the 90 seconds you allowed.');
    expect(deadlineMessage(1)).toBe('This video was canceled: it was not ready within the 1 second you allowed.');
  });

  it('takes a whole number of seconds from 1 to 6 days on submit, and refuses others clearly', () => {
    const base = { model: 'm', prompt: 'a fox', aspectRatio: '16:9', durationSeconds: 5 };
    expect(SubmitJobRequest.parse({ ...base, cancelAfterSeconds: 600 }).cancelAfterSeconds).toBe(600);
    expect(SubmitJobRequest.safeParse({ ...base, cancelAfterSeconds: 518_401 }).success).toBe(false);
    expect(SubmitJobRequest.safeParse({ ...base, cancelAfterSeconds: 0 }).success).toBe(false);
    const fractional = SubmitJobRequest.safeParse({ ...base, cancelAfterSeconds: 1.5 });
    expect(fractional.success ? null : fractional.error.issues[0]?.message).toBe('cancelAfterSeconds must be a whole number of seconds.');
  });

  it('refuses a deadline whose webhook would not hear of the cancel at it', () => {
    const base = { model: 'm', prompt: 'a fox', aspectRatio: '16:9', durationSeconds: 5, webhookUrl: 'https://example.com/hook' };
    const deaf = SubmitJobRequest.safeParse({ ...base, cancelAfterSeconds: 600, webhookEvents: ['video.job.succeeded', 'video.job.failed'] });
    expect(deaf.success ? null : deaf.error.issues[0]).toMatchObject({ path: ['webhookEvents'], message: expect.stringContaining('add video.job.canceled to webhookEvents') });
    expect(SubmitJobRequest.safeParse({ ...base, cancelAfterSeconds: 600, webhookEvents: ['video.job.succeeded', 'video.job.failed', 'video.job.canceled'] }).success).toBe(true);
    expect(SubmitJobRequest.safeParse({ ...base, cancelAfterSeconds: 600 }).success).toBe(true);
    expect(SubmitJobRequest.safeParse({ ...base, webhookEvents: ['video.job.succeeded'] }).success).toBe(true);
  });
});
