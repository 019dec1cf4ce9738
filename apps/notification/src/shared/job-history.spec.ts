import type { RecordedEvent } from '@reelay/contracts';
import { randomUUID } from 'node:crypto';
import { foldJobHistory, snapshotOf, visibleChange } from './job-history';

const at = '2026-11-28T12:00:00.000Z';
const jobId = 'job_01JABCDEFGHJKMNPQRSTVWXYZ0';
const submitted = {
  jobId, userId: 'u1', model: 'seedance-1-0-pro', provider: 'seedance', prompt: 'a fox', negativePrompt: null, aspectRatio: '16:9',
  durationSeconds: 5, resolution: '720p', seed: null, referenceImage: null, webhookUrl: 'https://example.com/h', metadata: {},
  creditsEstimated: 25, requestHash: 'h', at,
};
const stream: [string, unknown][] = [
  ['JobSubmitted', submitted],
  ['JobValidationStarted', { at }],
  ['JobValidated', { at, referenceImage: null }],
  ['JobSubmissionIntended', { provider: 'seedance', attempt: 1, submissionKey: 'k', at }],
  ['JobProviderAccepted', { provider: 'seedance', providerTaskId: 't1', at }],
  ['JobProgressed', { progress: 40, at }],
  ['JobFailed', { errorCode: 'provider_timeout', message: null, detail: 'deadline', at }],
];
const events: RecordedEvent[] = stream.map(([type, data], i) => ({
  eventId: randomUUID(), type, schemaVersion: 1, streamId: `job-${jobId}`, streamVersion: i + 1, globalPosition: String(i + 1),
  transactionId: String(i + 1), data, metadata: {}, recordedAt: at,
}));

describe('foldJobHistory', () => {
  it('lists every status change up to the version, creation included, with the public job', () => {
    const h = foldJobHistory(events, 7);
    expect(h.statusChanges.map((c) => [c.version, c.status])).toEqual([[1, 'queued'], [2, 'validating'], [5, 'running'], [7, 'failed']]);
    expect(h.statusChanges[3].job).toMatchObject({ id: jobId, version: 7, status: 'failed', errorCode: 'provider_timeout', message: 'The provider did not return a result in time.' });
  });

  it('stops at the version asked for and tells visible changes apart', () => {
    expect(foldJobHistory(events, 3).statusChanges.map((c) => c.version)).toEqual([1, 2]);
    const visible = (v: number) => { const h = foldJobHistory(events, v); return visibleChange(h.before, h.after); };
    expect([1, 2, 3, 4, 5, 6, 7].map(visible)).toEqual([true, true, false, false, true, true, true]);
  });
});

describe('foldJobHistory notices (what webhooks tell)', () => {
  const succeededThenDeleted: [string, unknown][] = [
    ...stream.slice(0, 5),
    ['JobSucceeded', { output: { url: '/v1/jobs/x/content', contentType: 'video/mp4', bytes: 10, durationSeconds: 5, width: 1280, height: 720, sha256: 'a' }, creditsCharged: 25, at }],
    ['JobOutputDeleted', { reason: 'user', at }],
  ];
  const recorded = succeededThenDeleted.map(([type, data], i) => ({ ...events[0], eventId: randomUUID(), type, data, streamVersion: i + 1, globalPosition: String(i + 1) }));

  it('given a succeeded job, when its video is deleted, then the deletion is a notice of its own and no status change', () => {
    const h = foldJobHistory(recorded, 7);
    expect(h.notices.map((n) => [n.version, n.type])).toEqual([[1, 'video.job.queued'], [2, 'video.job.validating'], [5, 'video.job.running'], [6, 'video.job.succeeded'], [7, 'video.job.output_deleted']]);
    expect(h.statusChanges.map((c) => c.version)).toEqual([1, 2, 5, 6]);
    expect(h.notices[4].job).toMatchObject({ status: 'succeeded', version: 7, output: { deletedAt: at } });
    expect(visibleChange(h.before, h.after)).toBe(true);
  });

  it('given the snapshot at the success, when the deletion is folded, then it is the only notice', () => {
    const h = foldJobHistory(recorded.slice(6), 7, snapshotOf(foldJobHistory(recorded, 6)));
    expect(h.notices.map((n) => n.type)).toEqual(['video.job.output_deleted']);
  });
});

describe('foldJobHistory of a canceled job whose provider task ends later', () => {
  const canceledThenEnded: [string, unknown][] = [...stream.slice(0, 5), ['JobCanceled', { at }], ['JobProviderTaskEnded', { reason: 'canceled_at_provider', at }]];
  const recorded = canceledThenEnded.map(([type, data], i) => ({ ...events[0], eventId: randomUUID(), type, data, streamVersion: i + 1, globalPosition: String(i + 1) }));

  it('given a job canceled while running, when its task is stopped, then connected clients see it and a cancellation update is told after the cancel', () => {
    const h = foldJobHistory(recorded, 7);
    expect(visibleChange(h.before, h.after)).toBe(true);
    expect(h.notices.map((n) => [n.version, n.type])).toEqual([
      [1, 'video.job.queued'], [2, 'video.job.validating'], [5, 'video.job.running'], [6, 'video.job.canceled'], [7, 'video.job.cancellation_updated'],
    ]);
    expect(h.notices[3].job.cancellation).toEqual({ providerTask: 'stopping' });
    expect(h.notices[4].job).toMatchObject({ status: 'canceled', version: 7, cancellation: { providerTask: 'stopped' } });
    // No status change: the job entered canceled once.
    expect(h.statusChanges.map((c) => c.version)).toEqual([1, 2, 5, 6]);
  });

  it('given the snapshot at the cancel, when the task end is folded, then the update is the only notice', () => {
    const h = foldJobHistory(recorded.slice(6), 7, snapshotOf(foldJobHistory(recorded, 6)));
    expect(h.notices.map((n) => n.type)).toEqual(['video.job.cancellation_updated']);
  });

  it('given a job canceled before any provider had it, then its cancel is the last notice (nothing can update it)', () => {
    const queuedThenCanceled = [...stream.slice(0, 3), ['JobCanceled', { at }]] as [string, unknown][];
    const h = foldJobHistory(queuedThenCanceled.map(([type, data], i) => ({ ...events[0], eventId: randomUUID(), type, data, streamVersion: i + 1, globalPosition: String(i + 1) })), 4);
    expect(h.notices.map((n) => n.type).at(-1)).toBe('video.job.canceled');
    expect(h.notices.at(-1)!.job.cancellation).toEqual({ providerTask: 'none' });
  });
});

describe('foldJobHistory from a snapshot', () => {
  it('given the snapshot at version 4, when the rest is folded, then it ends where folding the whole stream ends and lists only the later changes', () => {
    const whole = foldJobHistory(events, 7);
    const tail = foldJobHistory(events.slice(4), 7, snapshotOf(foldJobHistory(events, 4)));
    expect(tail.after).toEqual(whole.after);
    expect(tail.before).toEqual(whole.before);
    expect(tail.statusChanges.map((c) => c.version)).toEqual([5, 7]);
    expect(tail.priorChange).toEqual({ status: 'validating', at });
  });

  it('given the snapshot at version 4, when the whole stream is passed, then the events it covers are skipped', () => {
    const h = foldJobHistory(events, 6, snapshotOf(foldJobHistory(events, 4)));
    expect([h.version, h.statusChanges.map((c) => c.version)]).toEqual([6, [5]]);
  });

  it('given the snapshot at version 2, when the events passed skip version 3, then it throws instead of folding a wrong state', () => {
    expect(() => foldJobHistory(events.slice(3), 7, snapshotOf(foldJobHistory(events, 2)))).toThrow(/skips from version 2 to 4/);
  });
});
