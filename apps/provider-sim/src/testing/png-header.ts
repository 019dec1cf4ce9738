/** A `data:` URL of the first bytes of a PNG of this size: what a reader of its header (the sims' checks) sees. */
export function pngHeaderDataUrl(width: number, height: number): string {
  const ihdr = Buffer.alloc(33);
  Buffer.from('89504e470d0a1a0a', 'hex').copy(ihdr, 0);
  ihdr.writeUInt32BE(13, 8);
  ihdr.write('IHDR', 12, 'latin1');
  ihdr.writeUInt32BE(width, 16);
  ihdr.writeUInt32BE(height, 20);
  return `data:image/png;base64,${ihdr.toString('base64')}`;
}
