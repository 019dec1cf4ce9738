import { randomUUID } from 'node:crypto';
import { commandSubjects, liveJobSubject } from '@reelay/contracts';
import {
  decodeEventMessage,
  eventStreamName,
  eventSubject,
  splitDurables,
  nakDelay,
  resolveBinding,
  streamCategory,
  subjectMatches,
} from '../src';

describe('subject naming', () => {
  it('derives every name from the prefix', () => {
    expect(eventStreamName('reelay')).toBe('REELAY_EVENTS');
    expect(eventSubject('reelay', { streamId: 'job-job_01J8Z', type: 'JobSubmitted' })).toBe('reelay.events.job.JobSubmitted');
    expect(eventSubject('t1', { streamId: 'credits-alice-smith', type: 'CreditsHeld' })).toBe('t1.events.credits.CreditsHeld');
    expect(streamCategory('nodash')).toBe('nodash');
    // Core-NATS subjects (contracts) stay outside the events stream's `<prefix>.events.>`.
    expect(commandSubjects('reelay').submitJob).toBe('reelay.cmd.submit-job');
    expect(liveJobSubject('reelay', 'job_1')).toBe('reelay.live.job.job_1');
    expect(() => eventStreamName('bad.prefix')).toThrow(/Invalid NATS prefix/);
  });

  it.each([
    ['a.events.job.X', 'a.events.job.X', true],
    ['*.events.job.X', 'a.events.job.X', true],
    ['a.events.>', 'a.events.job.X', true],
    ['a.events.>', 'a.events', false],
    ['a.events.*', 'a.events.job.X', false],
    ['a.events.job.X', 'a.events.job.Y', false],
    ['a.events.job', 'a.events.job.X', false],
  ])('%s matches %s: %s', (pattern, subject, expected) => {
    expect(subjectMatches(pattern, subject)).toBe(expected);
  });

  it('names one durable per filter for servers without filter_subjects after what sets the filters apart', () => {
    expect(splitDurables('slots', ['p.events.job.JobSucceeded', 'p.events.job.JobFailed'])).toEqual([
      { durable: 'slots-JobSucceeded', filter: 'p.events.job.JobSucceeded' },
      { durable: 'slots-JobFailed', filter: 'p.events.job.JobFailed' },
    ]);
    expect(splitDurables('c', ['p.events.job.>', 'p.events.credits.*']).map((p) => p.durable)).toEqual(['c-job-all', 'c-credits-any']);
    expect(splitDurables('c', ['a.x', 'b.x']).map((p) => p.durable)).toEqual(['c-a-x', 'c-b-x']);
    expect(splitDurables('c', ['p.x', 'p.x.y']).map((p) => p.durable)).toEqual(['c-x', 'c-x-y']);
  });
});

describe('redelivery backoff', () => {
  it('doubles per delivery up to the cap', () => {
    const b = resolveBinding({ durable: 'd', filterSubjects: ['x'], nakDelayMs: 100, maxNakDelayMs: 1000 });
    expect([1, 2, 3, 4, 5, 6].map((n) => nakDelay(b, n))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });
});

describe('decodeEventMessage', () => {
  const envelope = (data: unknown) => ({
    eventId: randomUUID(),
    type: 'JobProgressed',
    schemaVersion: 1,
    streamId: 'job-job_01',
    streamVersion: 2,
    globalPosition: '7',
    transactionId: '900',
    data,
    metadata: {},
    recordedAt: '2026-11-28T10:00:00.000Z',
  });
  const bytes = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));

  it('accepts a registered event and keeps the wire payload', () => {
    const e = envelope({ progress: 40, at: '2026-11-28T10:00:00.000Z' });
    const decoded = decodeEventMessage(bytes(e));
    expect(decoded).toMatchObject({ ok: true, recorded: e, event: { type: 'JobProgressed', data: e.data }, payload: e });
  });

  it('rejects non-JSON, a foreign envelope, an unknown type and malformed data', () => {
    expect(decodeEventMessage(bytes('{oops'))).toMatchObject({ ok: false, eventId: null, payload: '{oops' });
    expect(decodeEventMessage(bytes({ pattern: 'x', data: {} }))).toMatchObject({ ok: false, eventId: null });
    const unknown = { ...envelope({}), type: 'Nope' };
    expect(decodeEventMessage(bytes(unknown))).toMatchObject({ ok: false, eventId: unknown.eventId, error: expect.stringContaining('Unknown event Nope') });
    const malformed = envelope({ progress: 400, at: 'yesterday' });
    expect(decodeEventMessage(bytes(malformed))).toMatchObject({ ok: false, eventId: malformed.eventId, error: expect.stringContaining('Malformed event') });
  });
});
