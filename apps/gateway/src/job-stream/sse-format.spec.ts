import type { Job } from '@reelay/contracts';
import { formatJobEvent, HEARTBEAT, parseLastEventId, retryHint } from './sse-format';

describe('SSE formatting', () => {
  const job = { id: 'job_1', status: 'running', prompt: 'line one\nline two', version: 3 } as unknown as Job;

  it('writes id, event and one data line, ended by a blank line', () => {
    const text = formatJobEvent(3, job);
    const lines = text.split('\n');
    expect(lines.slice(0, 2)).toEqual(['id: 3', 'event: job']);
    expect(lines[2].startsWith('data: ')).toBe(true);
    expect(JSON.parse(lines[2].slice(6))).toEqual(job);
    expect(text.endsWith('\n\n')).toBe(true);
    expect(lines).toHaveLength(5);
  });

  it('heartbeats are comments and retry hints are whole milliseconds', () => {
    expect(HEARTBEAT.startsWith(':')).toBe(true);
    expect(retryHint(1500.7)).toBe('retry: 1500\n\n');
  });

  it.each([
    [undefined, 0],
    ['', 0],
    ['7', 7],
    [' 12 ', 12],
    [['4', '9'], 4],
    ['-1', 0],
    ['abc', 0],
    ['1e3', 0],
  ])('Last-Event-ID %p → %p', (raw, expected) => expect(parseLastEventId(raw as string | string[] | undefined)).toBe(expected));
});
