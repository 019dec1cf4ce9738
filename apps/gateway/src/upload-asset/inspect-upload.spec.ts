import { ApiException } from '../errors/api-exception';
import { assetIdFor } from '@reelay/storage';
import { checkDeclaredType, inspectUpload } from './inspect-upload';

// 6x4 images written by ffmpeg, so real encoders' headers are covered.
const FIXTURES = {
  'image/png': 'iVBORw0KGgoAAAANSUhEUgAAAAYAAAAECAIAAAAiZtkUAAAACXBIWXMAAAABAAAAAQBPJcTWAAAAEklEQVR4nGP4y8CAhtD5RAsBAJ2BF7nKI3aWAAAAAElFTkSuQmCC',
  'image/jpeg': '/9j/4AAQSkZJRgABAgAAAQABAAD//gAQTGF2YzU4LjQyLjEwMAD/2wBDAAgEBAQEBAUFBQUFBQYGBgYGBgYGBgYGBgYHBwcICAgHBwcGBgcHCAgICAkJCQgICAgJCQoKCgwMCwsODg4RERT/xABMAAEBAAAAAAAAAAAAAAAAAAAABgEBAQAAAAAAAAAAAAAAAAAABgcQAQAAAAAAAAAAAAAAAAAAAAARAQAAAAAAAAAAAAAAAAAAAAD/wAARCAAEAAYDASIAAhEAAxEA/9oADAMBAAIRAxEAPwCLAFF/f//Z',
  'image/webp': 'UklGRjwAAABXRUJQVlA4IDAAAADQAQCdASoGAAQAAgA0JaACdLoB+AADsAD+8Oj3/yC5YXXI1/8gP+QH/ID/+PIAAAA=',
};
const WEBP_LOSSLESS = 'UklGRhwAAABXRUJQVlA4TA8AAAAvBcAAAAcQ9Y/+ByKi/wEA';
const b64 = (s: string) => Buffer.from(s, 'base64');

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof ApiException ? `${err.status} ${err.code}` : 'other';
  }
  return undefined;
}

describe('upload inspection', () => {
  it.each(Object.entries(FIXTURES))('reads type and size of a real %s', (type, data) => {
    expect(inspectUpload(type, b64(data))).toEqual({ contentType: type, width: 6, height: 4 });
  });

  it('reads lossless WebP', () => {
    expect(inspectUpload('image/webp', b64(WEBP_LOSSLESS))).toEqual({ contentType: 'image/webp', width: 6, height: 4 });
  });

  it('refuses bytes that are not the declared image type with 415', () => {
    expect(codeOf(() => inspectUpload('image/jpeg', b64(FIXTURES['image/png'])))).toBe('415 unsupported_media_type');
    expect(codeOf(() => inspectUpload('image/png', Buffer.from('GIF89a\x01\x00\x01\x00', 'latin1')))).toBe('415 unsupported_media_type');
    expect(codeOf(() => inspectUpload('image/png', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>')))).toBe('415 unsupported_media_type');
    expect(codeOf(() => inspectUpload('image/png', b64(FIXTURES['image/png']).subarray(0, 20)))).toBe('415 unsupported_media_type');
  });

  it('refuses a PNG header claiming zero pixels', () => {
    const png = Buffer.from(b64(FIXTURES['image/png']));
    png.writeUInt32BE(0, 16);
    expect(codeOf(() => inspectUpload('image/png', png))).toBe('415 unsupported_media_type');
  });

  it('answers 400 for an empty upload and 415 for declared types that are not images', () => {
    expect(codeOf(() => inspectUpload('image/png', Buffer.alloc(0)))).toBe('400 invalid_request');
    for (const t of ['image/gif', 'image/svg+xml', 'application/octet-stream', '']) expect(codeOf(() => checkDeclaredType(t))).toBe('415 unsupported_media_type');
    expect(codeOf(() => checkDeclaredType('image/webp'))).toBeUndefined();
  });

  it('makes asset ids that the submit schema accepts, one per owner and image', () => {
    const image = Buffer.from('the same bytes');
    expect(assetIdFor('u1', image)).toMatch(/^asset_[A-Za-z0-9]{8,40}$/);
    expect(assetIdFor('u1', image)).toBe(assetIdFor('u1', Buffer.from('the same bytes')));
    expect(assetIdFor('u2', image)).not.toBe(assetIdFor('u1', image));
    expect(assetIdFor('u1', Buffer.from('other bytes'))).not.toBe(assetIdFor('u1', image));
  });
});
