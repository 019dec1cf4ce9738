/**
 * A simple-format WebP (`RIFF…WEBPVP8 ` or `VP8L`) rewrapped in the extended format with a VP8X
 * header that claims this canvas size, whatever its bitstream decodes to: an honest file when they
 * agree, a crafted one when they do not.
 */
export function webpWithCanvas(simple: Buffer, width: number, height: number): Buffer {
  const vp8x = Buffer.alloc(18);
  vp8x.write('VP8X', 0, 'latin1');
  vp8x.writeUInt32LE(10, 4);
  vp8x.writeUIntLE(width - 1, 12, 3);
  vp8x.writeUIntLE(height - 1, 15, 3);
  const chunks = simple.subarray(12);
  const header = Buffer.alloc(12);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(4 + vp8x.length + chunks.length, 4);
  header.write('WEBP', 8, 'latin1');
  return Buffer.concat([header, vp8x, chunks]);
}
