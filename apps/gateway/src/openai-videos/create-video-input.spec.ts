import { Readable } from 'node:stream';
import type { Request } from 'express';
import { loadGatewayConfig } from '../config/gateway-config';
import { ApiException } from '../errors/api-exception';
import { readCreateVideoInput } from './create-video-input';

const config = loadGatewayConfig({ DATABASE_URL: 'postgres://x@127.0.0.1/x', NATS_URL: 'nats://127.0.0.1:4222' });

async function multipart(fields: [string, string | File][]): Promise<Request> {
  const form = new FormData();
  for (const [k, v] of fields) form.append(k, v);
  const encoded = new Response(form);
  const body = Buffer.from(await encoded.arrayBuffer());
  return Object.assign(Readable.from([body]), { headers: { 'content-type': encoded.headers.get('content-type')!, 'content-length': String(body.length) } }) as unknown as Request;
}

describe('readCreateVideoInput (multipart)', () => {
  it('reads bracketed input_reference fields', async () => {
    const input = await readCreateVideoInput(await multipart([['prompt', 'a bay'], ['input_reference[image_url]', 'https://example.com/a.png']]), config);
    expect(input.body).toMatchObject({ prompt: 'a bay', input_reference: { image_url: 'https://example.com/a.png' } });
  });

  it('refuses input_reference as text next to input_reference[...] with a 400, not a TypeError', async () => {
    const req = await multipart([['prompt', 'a bay'], ['input_reference', 'text'], ['input_reference[x]', 'y']]);
    await expect(readCreateVideoInput(req, config)).rejects.toMatchObject({ code: 'invalid_request', status: 400 });
    await expect(readCreateVideoInput(await multipart([['input_reference', 'text'], ['input_reference[x]', 'y']]), config)).rejects.toBeInstanceOf(ApiException);
  });

  it('takes an image of up to ASSET_MAX_BYTES as a data: URL field, as the JSON body does', async () => {
    const small = loadGatewayConfig({ DATABASE_URL: 'postgres://x@127.0.0.1/x', NATS_URL: 'nats://127.0.0.1:4222', ASSET_MAX_BYTES: '30000', JSON_BODY_LIMIT_BYTES: '2048' });
    const url = `data:image/png;base64,${Buffer.alloc(30000, 7).toString('base64')}`; // 40,000 characters
    const input = await readCreateVideoInput(await multipart([['prompt', 'a bay'], ['input_reference[image_url]', url]]), small);
    expect(input.body).toMatchObject({ input_reference: { image_url: url } });
    const file = await multipart([['input_reference', new File([Buffer.alloc(30001)], 'big.png', { type: 'image/png' })]]);
    await expect(readCreateVideoInput(file, small)).rejects.toMatchObject({ code: 'payload_too_large', status: 413 });
  });

  it.each(['constructor', 'toString', '__proto__'])('refuses a field named %s, like any unknown field, instead of skipping it', async (name) => {
    await expect(readCreateVideoInput(await multipart([['prompt', 'a bay'], [name, 'x']]), config)).rejects.toMatchObject({ code: 'invalid_request', status: 400 });
  });

  it('refuses a NUL character in a field with a 400', async () => {
    await expect(readCreateVideoInput(await multipart([['prompt', 'a\u0000b']]), config)).rejects.toMatchObject({ code: 'invalid_request', details: [{ path: 'prompt' }] });
  });
});
