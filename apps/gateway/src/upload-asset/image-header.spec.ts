import { sniffImage } from './image-header';

// 6x4 images written by ffmpeg (so real encoders' headers are covered, not only hand-made ones).
const FIXTURES = {
  png: 'iVBORw0KGgoAAAANSUhEUgAAAAYAAAAECAIAAAAiZtkUAAAACXBIWXMAAAABAAAAAQBPJcTWAAAAEklEQVR4nGP4y8CAhtD5RAsBAJ2BF7nKI3aWAAAAAElFTkSuQmCC',
  jpeg: '/9j/4AAQSkZJRgABAgAAAQABAAD//gAQTGF2YzU4LjQyLjEwMAD/2wBDAAgEBAQEBAUFBQUFBQYGBgYGBgYGBgYGBgYHBwcICAgHBwcGBgcHCAgICAkJCQgICAgJCQoKCgwMCwsODg4RERT/xABMAAEBAAAAAAAAAAAAAAAAAAAABgEBAQAAAAAAAAAAAAAAAAAABgcQAQAAAAAAAAAAAAAAAAAAAAARAQAAAAAAAAAAAAAAAAAAAAD/wAARCAAEAAYDASIAAhEAAxEA/9oADAMBAAIRAxEAPwCLAFF/f//Z',
  webpLossy: 'UklGRjwAAABXRUJQVlA4IDAAAADQAQCdASoGAAQAAgA0JaACdLoB+AADsAD+8Oj3/yC5YXXI1/8gP+QH/ID/+PIAAAA=',
  webpLossless: 'UklGRhwAAABXRUJQVlA4TA8AAAAvBcAAAAcQ9Y/+ByKi/wEA',
};
const b64 = (s: string) => Buffer.from(s, 'base64');

function pngHeader(width: number, height: number): Buffer {
  const buf = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(buf);
  buf.writeUInt32BE(13, 8);
  buf.write('IHDR', 12, 'latin1');
  buf.writeUInt32BE(width, 16);
  buf.writeUInt32BE(height, 20);
  return buf;
}

function webpExtended(width: number, height: number): Buffer {
  const buf = Buffer.alloc(30);
  buf.write('RIFF', 0, 'latin1');
  buf.writeUInt32LE(22, 4);
  buf.write('WEBPVP8X', 8, 'latin1');
  buf.writeUInt32LE(10, 16);
  buf.writeUIntLE(width - 1, 24, 3);
  buf.writeUIntLE(height - 1, 27, 3);
  return buf;
}

describe('sniffImage', () => {
  it.each([
    ['png', FIXTURES.png, 'image/png'],
    ['jpeg', FIXTURES.jpeg, 'image/jpeg'],
    ['lossy webp', FIXTURES.webpLossy, 'image/webp'],
    ['lossless webp', FIXTURES.webpLossless, 'image/webp'],
  ])('reads type and size of a real %s', (_name, data, contentType) => {
    expect(sniffImage(b64(data))).toEqual({ contentType, width: 6, height: 4 });
  });

  it('reads large sizes from PNG and extended WebP headers', () => {
    expect(sniffImage(pngHeader(3840, 2160))).toEqual({ contentType: 'image/png', width: 3840, height: 2160 });
    expect(sniffImage(webpExtended(5000, 3000))).toEqual({ contentType: 'image/webp', width: 5000, height: 3000 });
  });

  it('rejects what is not one of the three image types', () => {
    expect(sniffImage(Buffer.from('GIF89a\x01\x00\x01\x00', 'latin1'))).toBeNull();
    expect(sniffImage(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeNull();
    expect(sniffImage(Buffer.alloc(0))).toBeNull();
  });

  it('rejects truncated or zero-sized headers', () => {
    expect(sniffImage(b64(FIXTURES.png).subarray(0, 20))).toBeNull();
    expect(sniffImage(b64(FIXTURES.jpeg).subarray(0, 40))).toBeNull();
    expect(sniffImage(pngHeader(0, 10))).toBeNull();
  });
});
