import { createSocket, type Socket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { isIPv6 } from 'node:net';
import { checkUrl } from './check-url';
import { dnsResolver } from './dns-resolver';
import { UnsafeUrlError } from './unsafe-url-error';

const ZONE: Record<string, { A?: string[]; AAAA?: string[] }> = {
  'video.example': { A: ['203.0.113.7'], AAAA: ['2001:db8::7'] },
  'v4only.example': { A: ['198.51.100.9'] },
  'internal.example': { A: ['10.0.0.5'] },
};
const TYPES: Record<number, 'A' | 'AAAA'> = { 1: 'A', 28: 'AAAA' };

/** Encodes one address as a record's data. */
function rdata(address: string): Buffer {
  if (!isIPv6(address)) return Buffer.from(address.split('.').map(Number));
  const [head, tail = ''] = address.split('::');
  const groups = (s: string) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const [h, t] = [groups(head), groups(tail)];
  const all = [...h, ...Array<number>(8 - h.length - t.length).fill(0), ...t];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

/** A DNS server over UDP answering A and AAAA questions from ZONE (NXDOMAIN for other names). */
function answer(query: Buffer): Buffer {
  const labels: string[] = [];
  let at = 12;
  while (query[at] !== 0) {
    labels.push(query.toString('latin1', at + 1, at + 1 + query[at]));
    at += 1 + query[at];
  }
  const question = query.subarray(12, at + 5);
  const name = labels.join('.').toLowerCase();
  const type = TYPES[query.readUInt16BE(at + 1)];
  const records = (type && ZONE[name]?.[type]) || [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0);
  header.writeUInt16BE(ZONE[name] ? 0x8180 : 0x8183, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(records.length, 6);
  const answers = records.map((address) => {
    const data = rdata(address);
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0); // the question's name
    rr.writeUInt16BE(type === 'A' ? 1 : 28, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(60, 6);
    rr.writeUInt16BE(data.length, 10);
    return Buffer.concat([rr, data]);
  });
  return Buffer.concat([header, question, ...answers]);
}

async function udpServer(reply: boolean): Promise<{ socket: Socket; server: string; queries: string[] }> {
  const socket = createSocket('udp4');
  const queries: string[] = [];
  socket.on('message', (msg, from) => {
    queries.push(msg.toString('latin1', 13, 13 + msg[12]));
    if (reply) socket.send(answer(msg), from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { socket, server: `127.0.0.1:${socket.address().port}`, queries };
}

describe('dnsResolver', () => {
  let dns: Awaited<ReturnType<typeof udpServer>>;
  let silent: Awaited<ReturnType<typeof udpServer>>;
  beforeAll(async () => {
    [dns, silent] = await Promise.all([udpServer(true), udpServer(false)]);
  });
  afterAll(() => {
    dns.socket.close();
    silent.socket.close();
  });

  it('given a name with A and AAAA records, then it answers both, each with its family', async () => {
    const resolve = dnsResolver({ servers: [dns.server] });
    expect(await resolve('video.example')).toEqual([
      { address: '203.0.113.7', family: 4 },
      { address: '2001:db8::7', family: 6 },
    ]);
    expect(await resolve('v4only.example')).toEqual([{ address: '198.51.100.9', family: 4 }]);
  });

  it('given a name that does not exist or resolves to a private address, then checkUrl refuses it', async () => {
    const resolver = dnsResolver({ servers: [dns.server] });
    await expect(checkUrl('https://missing.example/hook', { resolver })).rejects.toMatchObject({ reason: 'resolution_failed' });
    const refused = await checkUrl('https://internal.example/hook', { resolver }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(UnsafeUrlError);
    expect(refused).toMatchObject({ reason: 'private_address' });
  });

  it('given a DNS server that never answers, then lookups fail after their tries and hold no thread of the pool meanwhile', async () => {
    const resolve = dnsResolver({ servers: [silent.server], timeoutMs: 400, tries: 1 });
    // More hanging lookups than libuv's pool has threads (4): through getaddrinfo, file reads would queue behind them.
    let pending = 8;
    const lookups = Array.from({ length: pending }, (_, i) => resolve(`slow${i}.example`).finally(() => pending--));
    await new Promise((r) => setTimeout(r, 50));
    await Promise.all(Array.from({ length: 8 }, () => readFile(__filename)));
    expect(pending).toBe(8);
    const outcomes = await Promise.allSettled(lookups);
    expect(outcomes.map((o) => o.status)).toEqual(Array(8).fill('rejected'));
    expect(new Set(silent.queries)).toEqual(new Set(Array.from({ length: 8 }, (_, i) => `slow${i}`)));
  });
});
