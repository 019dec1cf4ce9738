import { startProviderSim, type RunningProviderSim } from '../start-provider-sim';
import { pngHeaderDataUrl } from '../testing/png-header';

/** Ark has no npm SDK: this drives the raw HTTP shape the Ark SDKs use (providers.md §1, §11). */
describe('Ark content-generation raw HTTP shape against provider-sim /seedance/api/v3', () => {
  let sim: RunningProviderSim;
  let base: string;
  const headers = { authorization: 'Bearer ark-sim', 'content-type': 'application/json' };

  beforeAll(async () => {
    sim = await startProviderSim({ port: 0 });
    base = `${sim.url}/seedance/api/v3/contents/generations/tasks`;
  });
  afterAll(() => sim.close());

  it('create → {id}; retrieve returns the full task object; list filters; delete cancels queued', async () => {
    const create = await fetch(base, {
      method: 'POST', headers,
      body: JSON.stringify({ model: 'seedance-1-0-pro-250528', content: [{ type: 'text', text: 'fox --rt 9:16 --dur 6 [sim:success_after=1]' }], seed: 3 }),
    });
    expect(create.status).toBe(200);
    const { id } = (await create.json()) as { id: string };
    expect(id).toMatch(/^cgt-\d{14}-[0-9a-f]{5}$/);
    const task = (await (await fetch(`${base}/${id}`, { headers })).json()) as Record<string, unknown>;
    expect(task).toMatchObject({ id, model: 'seedance-1-0-pro-250528', status: 'succeeded', error: null, ratio: '9:16', duration: 6, seed: 3, framespersecond: 24 });
    expect((task.content as { video_url: string }).video_url).toMatch(/\.mp4\?exp=\d+$/);
    expect(task.created_at).toEqual(expect.any(Number));

    const queued = (await (await fetch(base, { method: 'POST', headers, body: JSON.stringify({ model: 'm', content: [{ type: 'text', text: 'q' }] }) })).json()) as { id: string };
    const list = (await (await fetch(`${base}?page_num=1&page_size=10&filter.status=succeeded&filter.task_ids=${id}&filter.task_ids=${queued.id}`, { headers })).json()) as { total: number; items: { id: string }[] };
    expect(list).toEqual({ total: 1, items: [expect.objectContaining({ id })] });
    const del = await fetch(`${base}/${queued.id}`, { method: 'DELETE', headers });
    expect(del.status).toBe(200);
    expect(await del.json()).toEqual({});
    expect(((await (await fetch(`${base}/${queued.id}`, { headers })).json()) as { status: string }).status).toBe('cancelled');
  });

  it('errors use the {"error":{code,message,param,type}} envelope with a request id', async () => {
    const res = await fetch(base, { method: 'POST', headers, body: JSON.stringify({ content: [] }) });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string; type: string; param: string } };
    expect(body.error).toMatchObject({ code: 'MissingParameter', type: 'BadRequest', param: 'model' });
    expect(body.error.message).toMatch(/Request id: \w+/);
    expect(res.headers.get('x-request-id')).toBeTruthy();
    const unauth = await fetch(base, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(((await unauth.json()) as { error: { code: string } }).error.code).toBe('AuthenticationError');
    const bad = await fetch(base, { method: 'POST', headers, body: JSON.stringify({ model: 'm', content: [{ type: 'text', text: 'x' }], ratio: '5:4' }) });
    expect(((await bad.json()) as { error: { code: string; param: string } }).error).toMatchObject({ code: 'InvalidParameter', param: 'ratio' });
  });
});

describe("Ark's image rules on the simulator", () => {
  let sim: RunningProviderSim;
  const headers = { authorization: 'Bearer ark-sim', 'content-type': 'application/json' };
  const create = (url: string) =>
    fetch(`${sim.url}/seedance/api/v3/contents/generations/tasks`, {
      method: 'POST', headers,
      body: JSON.stringify({ model: 'seedance-1-0-pro-250528', content: [{ type: 'text', text: 'a fox' }, { type: 'image_url', image_url: { url } }] }),
    });

  beforeAll(async () => {
    sim = await startProviderSim({ port: 0 });
  });
  afterAll(() => sim.close());

  it('refuses an image of a shape outside (0.4, 2.5) or a side outside (300, 6000) px, naming the content item', async () => {
    for (const [width, height] of [[1200, 400], [400, 1000], [300, 500], [6000, 3000]]) {
      const res = await create(pngHeaderDataUrl(width!, height!));
      expect(res.status).toBe(400);
      const { error } = (await res.json()) as { error: { code: string; param: string; message: string } };
      expect(error).toMatchObject({ code: 'InvalidParameter', param: 'content[1].image_url.url' });
      expect(error.message).toContain(`${width}x${height}`);
    }
    expect((await create('data:image/png;base64,bm90IGFuIGltYWdl')).status).toBe(400);
  });

  it('takes an image just inside the bounds, and a link it cannot reach unchecked', async () => {
    expect((await create(pngHeaderDataUrl(999, 400))).status).toBe(200);
    expect((await create(pngHeaderDataUrl(301, 700))).status).toBe(200);
    expect((await create('https://images.example.com/a.png')).status).toBe(200);
  });
});
