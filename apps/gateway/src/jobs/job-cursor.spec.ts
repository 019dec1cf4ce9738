import { decodeCursor, encodeCursor } from './job-cursor';

describe('list cursor', () => {
  it('round-trips the position', () => {
    const c = { createdAt: '2026-01-02T03:04:05.678Z', jobId: 'job_01JABCDEFGHJKMNPQRSTVWXYZ0' };
    const raw = encodeCursor(c);
    expect(raw).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(raw)).toEqual(c);
  });

  it('is refused by a call of another scope: a list cursor by bulk cancel, one bulk cancel by another', () => {
    const c = { createdAt: '2026-01-02T03:04:05.678Z', jobId: 'job_01JABCDEFGHJKMNPQRSTVWXYZ0' };
    expect(decodeCursor(encodeCursor(c, 'cancel:a'), 'cancel:a')).toEqual(c);
    expect(decodeCursor(encodeCursor(c), 'cancel:a')).toBeNull();
    expect(decodeCursor(encodeCursor(c, 'cancel:a'))).toBeNull();
    expect(decodeCursor(encodeCursor(c, 'cancel:a'), 'cancel:b')).toBeNull();
  });

  it.each(['', 'not base64!', Buffer.from('{"a":1}').toString('base64url'), Buffer.from('["yesterday","x"]').toString('base64url'), 'e30', Buffer.from('["2026-01-02T03:04:05.678Z","job\\u0000"]').toString('base64url'),
    // Valid ISO dates PostgreSQL cannot hold: they answered 500.
    Buffer.from('["0000-01-01T00:00:00Z","job_x"]').toString('base64url'), Buffer.from('["2026-01-02T03:04:05+23:59","job_x"]').toString('base64url'),
    // Longer than PostgreSQL takes a date (about 150 characters): a 500 through bulk cancel's 512-character cursor.
    Buffer.from(JSON.stringify([`2026-01-02T03:04:05.${'0'.repeat(200)}Z`, 'job_x'])).toString('base64url')])(
    'rejects %p',
    (raw) => expect(decodeCursor(raw)).toBeNull(),
  );
});
