import { randomUUID } from 'node:crypto';
import { decodeEventMessage } from './decode-event';

const at = '2026-12-05T12:00:00.000Z';
const message = (type: string, data: unknown) =>
  new TextEncoder().encode(
    JSON.stringify({ eventId: randomUUID(), type, schemaVersion: 1, streamId: 'job-x', streamVersion: 3, globalPosition: '7', transactionId: '9', data, metadata: {}, recordedAt: at }),
  );

describe('decodeEventMessage', () => {
  it('takes an event with a field a newer release added, without the field, so a rolling upgrade dead-letters nothing', () => {
    const decoded = decodeEventMessage(message('JobFailed', { errorCode: 'unknown_provider_error', message: null, detail: null, at, retriedBy: 'v99' }));
    expect(decoded.ok).toBe(true);
    if (decoded.ok) expect(decoded.recorded.data).toEqual({ errorCode: 'unknown_provider_error', message: null, detail: null, at });
    if (decoded.ok) expect(decoded.ignoredFields).toEqual(['retriedBy']);
    const plain = decodeEventMessage(message('JobDelayed', { at }));
    expect(plain.ok && plain.ignoredFields).toBeUndefined();
  });
  it('refuses an event whose known fields do not match, and names an unknown type as such', () => {
    expect(decodeEventMessage(message('JobProgressed', { at, progress: 'half' }))).toMatchObject({ ok: false });
    expect(decodeEventMessage(message('JobTeleported', { at }))).toMatchObject({ ok: false, unknown: true });
  });
});
