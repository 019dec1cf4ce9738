import { Readable } from 'node:stream';
import { usingBlob, type OpenBlob } from './blob-storage';

describe('usingBlob', () => {
  const blob = () => {
    const closes: number[] = [];
    const opened: OpenBlob = { bytes: 3, stream: () => Readable.from(['abc']), close: async () => void closes.push(1) };
    return { opened, closes };
  };

  it('closes a blob whose stream was never made: an answer without a body, or one that failed first', async () => {
    const empty = blob();
    expect(await usingBlob(empty.opened, async (held) => held.bytes)).toBe(3);
    expect(empty.closes).toHaveLength(1);
    const failed = blob();
    await expect(usingBlob(failed.opened, async () => Promise.reject(new Error('headers refused')))).rejects.toThrow('headers refused');
    expect(failed.closes).toHaveLength(1);
  });

  it('leaves a blob whose stream was made to that stream, which closes it as it ends', async () => {
    const streamed = blob();
    await usingBlob(streamed.opened, async (held) => {
      held.stream();
      throw new Error('the client went away');
    }).catch(() => undefined);
    expect(streamed.closes).toHaveLength(0);
  });

  it('closes a blob whose stream could not be made', async () => {
    const broken = blob();
    broken.opened.stream = () => {
      throw new RangeError('bad range');
    };
    await expect(usingBlob(broken.opened, async (held) => held.stream({ start: 5, end: 2 }))).rejects.toThrow('bad range');
    expect(broken.closes).toHaveLength(1);
  });
});
