export interface ImageInfo {
  contentType: 'image/png' | 'image/jpeg' | 'image/webp';
  /** As stored: a JPEG with `orientation` 5-8 is shown turned a quarter, its sides swapped. */
  width: number;
  height: number;
  /** Only on a JPEG whose EXIF says to show it turned or mirrored: that EXIF Orientation (2-8). */
  orientation?: number;
}

/** The width and height the image is shown at, once its EXIF orientation is applied. */
export function shownSize(image: ImageInfo): { width: number; height: number } {
  const quarterTurn = (image.orientation ?? 1) >= 5;
  return quarterTurn ? { width: image.height, height: image.width } : { width: image.width, height: image.height };
}

/** EXIF Orientation (tag 0x0112 of IFD0) of an APP1 segment's body, or null; every read is kept inside the segment. */
function exifOrientation(buf: Buffer, start: number, end: number): number | null {
  if (end - start < 14 || buf.toString('latin1', start, start + 6) !== 'Exif\0\0') return null;
  const tiff = start + 6;
  const order = buf.toString('latin1', tiff, tiff + 2);
  if (order !== 'II' && order !== 'MM') return null;
  const u16 = (at: number) => (at + 2 <= end ? (order === 'II' ? buf.readUInt16LE(at) : buf.readUInt16BE(at)) : null);
  const u32 = (at: number) => (at + 4 <= end ? (order === 'II' ? buf.readUInt32LE(at) : buf.readUInt32BE(at)) : null);
  const ifdOffset = u32(tiff + 4);
  if (ifdOffset === null) return null;
  const ifd = tiff + ifdOffset;
  const entries = u16(ifd);
  if (entries === null) return null;
  for (let k = 0; k < entries; k++) {
    const entry = ifd + 2 + k * 12;
    const tag = u16(entry);
    if (tag === null) return null;
    if (tag !== 0x0112) continue;
    const value = u16(entry + 8);
    return value !== null && value >= 1 && value <= 8 ? value : null;
  }
  return null;
}

/** Reads type and dimensions from an image's header bytes; null when it is not a PNG, JPEG or WebP. */
export function sniffImage(buf: Buffer): ImageInfo | null {
  if (buf.length >= 24 && buf.readUInt32BE(0) === 0x89504e47 && buf.toString('ascii', 12, 16) === 'IHDR') {
    return { contentType: 'image/png', width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
  }
  if (buf.length >= 4 && buf[0] === 0xff && buf[1] === 0xd8) return sniffJpeg(buf);
  if (buf.length >= 30 && buf.toString('ascii', 0, 4) === 'RIFF' && buf.toString('ascii', 8, 12) === 'WEBP') return sniffWebp(buf);
  return null;
}

function sniffJpeg(buf: Buffer): ImageInfo | null {
  let i = 2;
  let orientation: number | null = null;
  while (i + 9 < buf.length) {
    if (buf[i] !== 0xff) return null;
    const marker = buf[i + 1];
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2;
      continue;
    }
    const length = buf.readUInt16BE(i + 2);
    // Start-of-frame markers carry the dimensions (C4 DHT, C8 JPG and CC DAC are not frames).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      const size = { height: buf.readUInt16BE(i + 5), width: buf.readUInt16BE(i + 7) };
      return { contentType: 'image/jpeg', ...size, ...(orientation && orientation > 1 ? { orientation } : {}) };
    }
    if (marker === 0xe1 && orientation === null) orientation = exifOrientation(buf, i + 4, Math.min(buf.length, i + 2 + length));
    i += 2 + length;
  }
  return null;
}

function sniffWebp(buf: Buffer): ImageInfo | null {
  const chunk = buf.toString('ascii', 12, 16);
  if (chunk !== 'VP8X') return bitstreamSize(buf, chunk, 20);
  const canvas = { width: 1 + buf.readUIntLE(24, 3), height: 1 + buf.readUIntLE(27, 3) };
  // The extended format's canvas size is a claim; a still's bitstream says what is decoded. They must
  // agree, or a header of 1000x600 could front a 16384x16384 picture. Animations are not stills.
  for (let at = 30; at + 8 <= buf.length; at += 8 + buf.readUInt32LE(at + 4) + (buf.readUInt32LE(at + 4) & 1)) {
    const fourcc = buf.toString('ascii', at, at + 4);
    if (fourcc === 'ANIM' || fourcc === 'ANMF') return null;
    if (fourcc !== 'VP8 ' && fourcc !== 'VP8L') continue;
    const decoded = bitstreamSize(buf, fourcc, at + 8);
    return decoded && decoded.width === canvas.width && decoded.height === canvas.height ? decoded : null;
  }
  return null;
}

/** The size a `VP8 ` (lossy) or `VP8L` (lossless) bitstream starting at `data` decodes to. */
function bitstreamSize(buf: Buffer, fourcc: string, data: number): ImageInfo | null {
  if (fourcc === 'VP8 ' && data + 10 <= buf.length) return { contentType: 'image/webp', width: buf.readUInt16LE(data + 6) & 0x3fff, height: buf.readUInt16LE(data + 8) & 0x3fff };
  if (fourcc === 'VP8L' && data + 5 <= buf.length) {
    const bits = buf.readUInt32LE(data + 1);
    return { contentType: 'image/webp', width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
  }
  return null;
}
