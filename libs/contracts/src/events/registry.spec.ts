import { MalformedEventError, parseEvent, readEvent, UnknownEventError } from './registry';

const at = '2026-11-28T12:00:00.000Z';

describe('event registry', () => {
  it('parses a known event at its current version', () => {
    expect(parseEvent('JobDelayed', 1, { at })).toEqual({ type: 'JobDelayed', data: { at } });
  });
  it('rejects an unknown event type, naming it', () => {
    expect(() => parseEvent('JobTeleported', 1, { at })).toThrow(UnknownEventError);
    expect(() => parseEvent('JobTeleported', 1, { at })).toThrow(/JobTeleported@1/);
  });
  it('rejects a future schema version', () => expect(() => parseEvent('JobDelayed', 7, { at })).toThrow(/JobDelayed@7/));
  it('rejects malformed data, naming the event and field', () => {
    expect(() => parseEvent('JobProgressed', 1, { at, progress: 140 })).toThrow(MalformedEventError);
    expect(() => parseEvent('JobProgressed', 1, { at, progress: 140 })).toThrow(/JobProgressed@1.*progress/);
  });
  it('rejects unknown fields rather than dropping them', () => {
    expect(() => parseEvent('JobDelayed', 1, { at, extra: true })).toThrow(MalformedEventError);
  });
  it('as a reader, drops the fields a newer release added (at any depth) and still rejects anything else', () => {
    expect(readEvent('JobDelayed', 1, { at, reason: 'slow' })).toEqual({ type: 'JobDelayed', data: { at } });
    const image = { contentType: 'image/png', bytes: 10, width: 1, height: 1 };
    const validated = { at, referenceImage: { ...image, colourSpace: 'srgb' }, checkedBy: 'v2' };
    expect(readEvent('JobValidated', 1, validated)).toEqual({ type: 'JobValidated', data: { at, referenceImage: image } });
    expect(validated.referenceImage).toHaveProperty('colourSpace'); // the input is left as it was
    expect(() => readEvent('JobProgressed', 1, { at, progress: 140, extra: true })).toThrow(/progress/);
    expect(() => readEvent('JobDelayed', 1, { extra: true })).toThrow(MalformedEventError);
    expect(() => readEvent('JobTeleported', 1, { at })).toThrow(UnknownEventError);
  });
  it('as a reader, drops an unknown field inside a union member (a reference image given by asset)', () => {
    const submitted = {
      jobId: 'job_1', userId: 'u', model: 'm', provider: 'p', prompt: 'a fox', negativePrompt: null, aspectRatio: '16:9', durationSeconds: 5, resolution: null, seed: null,
      referenceImage: { assetId: 'asset_0123456789ab', cropped: true }, webhookUrl: null, metadata: {}, creditsEstimated: 5, requestHash: 'h', at,
    };
    expect(readEvent('JobSubmitted', 1, submitted).data).toMatchObject({ referenceImage: { assetId: 'asset_0123456789ab' } });
    expect(readEvent('JobSubmitted', 1, submitted).data).not.toHaveProperty('referenceImage.cropped');
  });
});
