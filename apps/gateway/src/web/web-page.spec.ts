import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ReadableStream, TextDecoderStream } from 'node:stream/web';
import { JSDOM, VirtualConsole } from 'jsdom';

// The web page's script (static/app.js) run in jsdom against a scripted API: what it sends and
// what it shows. Each test gets a fresh window, so no listener or timer outlives it.

const STATIC = join(__dirname, 'static');
const HTML = readFileSync(join(STATIC, 'index.html'), 'utf8');
const SCRIPT = readFileSync(join(STATIC, 'app.js'), 'utf8');

interface Call {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}
type Answer = { status: number; body?: unknown; sse?: string } | Promise<{ status: number; body?: unknown; sse?: string }>;
type Route = (call: Call) => Answer | undefined;

const MODELS = { data: [{ id: 'gen4.5', creditsPerSecond: 1, aspectRatios: ['16:9'], durations: [5], resolutions: ['720p'], imageToVideo: false, textToVideo: true }] };

const job = (id: string, over: Record<string, unknown> = {}) => ({
  id, object: 'job', model: 'gen4.5', prompt: `prompt of ${id}`, aspectRatio: '16:9', durationSeconds: 5, status: 'queued', message: 'Waiting.', progress: 0,
  version: 1, createdAt: '2026-12-01T10:00:00.000Z', completedAt: null, ...over,
});
const sseOf = (jobs: object[]) => jobs.map((j) => `id: ${(j as { version: number }).version}\nevent: job\ndata: ${JSON.stringify(j)}\n\n`).join('');

const windows: Window[] = [];
afterEach(() => {
  for (const w of windows.splice(0)) w.close();
});

/** The page in a fresh window, `routes` answering its requests (first match wins; unmatched: 404). */
function openPage(routes: Route[], storedKey: string | null = 'rly_alice') {
  const calls: Call[] = [];
  const dom = new JSDOM(HTML, { runScripts: 'outside-only', url: 'http://localhost/', virtualConsole: new VirtualConsole() });
  const w = dom.window as unknown as Window & typeof globalThis & { eval(code: string): unknown };
  windows.push(w);
  if (storedKey) w.localStorage.setItem('reelay.apiKey', storedKey);
  w.HTMLElement.prototype.scrollIntoView = () => undefined;
  (w as unknown as Record<string, unknown>).TextDecoderStream = TextDecoderStream;
  w.fetch = (async (input: string, init: RequestInit = {}) => {
    const url = new URL(input, 'http://localhost/');
    const call: Call = { method: init.method ?? 'GET', path: url.pathname + url.search, headers: { ...(init.headers as Record<string, string>) }, body: typeof init.body === 'string' ? init.body : undefined };
    calls.push(call);
    const answer = await (routes.map((r) => r(call)).find((a) => a !== undefined) ?? { status: 404, body: { error: { code: 'not_found', message: 'Not found.' } } });
    const sse = answer.sse;
    return {
      ok: answer.status < 400,
      status: answer.status,
      json: async () => answer.body,
      body: sse === undefined ? null : new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode(sse)), c.close()) }),
    };
  }) as unknown as typeof fetch;
  // Run as the page's <script> would, before the document's DOMContentLoaded (jsdom fires it once parsed).
  if (w.document.readyState !== 'loading') throw new Error('the page was loaded before its script ran');
  w.eval(SCRIPT);
  const $ = (id: string) => w.document.getElementById(id) as HTMLElement & { value: string };
  return { w, $, calls };
}

const on = (method: string, path: string | RegExp, answer: (call: Call) => Answer | undefined): Route => (call) =>
  call.method === method && (typeof path === 'string' ? call.path === path : path.test(call.path)) ? answer(call) : undefined;
const basics = (jobs: object[] = []): Route[] => [
  on('GET', '/v1/models', () => ({ status: 200, body: MODELS })),
  on('GET', '/v1/jobs?limit=10', () => ({ status: 200, body: { data: jobs, nextCursor: null } })),
  on('GET', /^\/v1\/jobs\/[^/]+\/events$/, () => ({ status: 200, body: { data: [] } })),
  on('GET', /^\/v1\/jobs\/[^/]+\/stream$/, () => ({ status: 204 })),
  on('GET', /^\/v1\/jobs\/[^/?]+$/, (c) => ({ status: 200, body: job(c.path.split('/')[3]!) })),
];

async function until(what: string, ok: () => boolean): Promise<void> {
  const end = Date.now() + 3_000;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
const settle = () => new Promise((r) => setTimeout(r, 50));

function submitForm(page: ReturnType<typeof openPage>, id: string) {
  page.$(id).dispatchEvent(new page.w.Event('submit', { cancelable: true }));
}

describe('web page: submitting', () => {
  it('sends a submit tried again after a 503 with the key of its first try, and a new submit after a job with a new key', async () => {
    let tries = 0;
    const page = openPage([on('POST', '/v1/jobs', () => (++tries === 1 ? { status: 503, body: { error: { code: 'service_unavailable', message: 'Try again.' } } } : { status: 202, body: job(`job_${tries}`) })), ...basics()]);
    await until('the models', () => page.$('model').value === 'gen4.5');
    page.$('prompt').value = 'a red fox';
    const posts = () => page.calls.filter((c) => c.method === 'POST' && c.path === '/v1/jobs');
    for (const n of [1, 2, 3]) {
      submitForm(page, 'job-form');
      await until(`submit ${n}`, () => posts().length === n && !(page.$('submit') as unknown as HTMLButtonElement).disabled);
    }
    const keys = posts().map((c) => c.headers['Idempotency-Key']);
    expect(keys[0]).toMatch(/^[\x21-\x7e]{1,255}$/);
    expect(keys[1]).toBe(keys[0]);
    expect(keys[2]).not.toBe(keys[0]);
    page.$('prompt').value = 'a blue fox';
    submitForm(page, 'job-form');
    await until('submit 4', () => posts().length === 4 && !(page.$('submit') as unknown as HTMLButtonElement).disabled);
    expect(new Set(posts().map((c) => c.headers['Idempotency-Key'])).size).toBe(3);
  });

  it('puts a job just made at the head of the list, though the list does not hold it yet', async () => {
    const page = openPage([on('POST', '/v1/jobs', () => ({ status: 202, body: job('job_new') })), ...basics([job('job_old', { status: 'succeeded' })])]);
    await until('the list', () => page.w.document.querySelectorAll('#jobs li').length === 1);
    page.$('prompt').value = 'a red fox';
    submitForm(page, 'job-form');
    await until('the new row', () => page.w.document.querySelectorAll('#jobs li').length === 2);
    expect([...page.w.document.querySelectorAll<HTMLElement>('#jobs li')].map((li) => li.dataset.jobId)).toEqual(['job_new', 'job_old']);
  });

  it("shows a refusal of the deadline next to the deadline field", async () => {
    const refusal = { error: { code: 'invalid_request', message: 'The request is not valid.', details: [{ path: 'cancelAfterSeconds', message: 'must be at most 518400' }] } };
    const page = openPage([on('POST', '/v1/jobs', () => ({ status: 400, body: refusal })), ...basics()]);
    await until('the models', () => page.$('model').value === 'gen4.5');
    submitForm(page, 'job-form');
    await until('the error', () => !page.$('err-cancelAfterSeconds').hidden);
    expect(page.$('err-cancelAfterSeconds').textContent).toBe('must be at most 518400');
  });
});

describe('web page: the job panel', () => {
  it("reads a long job's history once more after the read under way, not once per replayed event", async () => {
    const events = Array.from({ length: 70 }, (_, i) => job('job_long', { status: i === 69 ? 'failed' : 'running', progress: i, version: i + 1 }));
    const page = openPage([on('GET', '/v1/jobs/job_long/stream', () => ({ status: 200, sse: sseOf(events) })), ...basics([job('job_long', { status: 'failed', version: 70 })])]);
    await until('the list', () => page.w.document.querySelector('#jobs li button') !== null);
    page.w.document.querySelector<HTMLButtonElement>('#jobs li button')!.click();
    await until('the last event', () => page.$('job-status').textContent === 'failed');
    await settle();
    // The open's own read, and one more for each read some events found under way (here at most two).
    expect(page.calls.filter((c) => c.path === '/v1/jobs/job_long/events').length).toBeLessThanOrEqual(3);
  });

  it("never shows the history of a job opened before the one in the panel", async () => {
    let answerA: (a: { status: number; body: unknown }) => void = () => undefined;
    const page = openPage([
      on('GET', '/v1/jobs/job_a/events', () => new Promise((resolve) => (answerA = resolve))),
      on('GET', '/v1/jobs/job_b/events', () => ({ status: 200, body: { data: [{ at: '2026-12-01T10:00:00.000Z', type: 'JobSubmitted', status: 'queued', message: 'history of b', progress: null }] } })),
      ...basics([job('job_a'), job('job_b')]),
    ]);
    await until('the list', () => page.w.document.querySelectorAll('#jobs li button').length === 2);
    const [a, b] = [...page.w.document.querySelectorAll<HTMLButtonElement>('#jobs li button')];
    a!.click();
    await until("a's history asked", () => page.calls.some((c) => c.path === '/v1/jobs/job_a/events'));
    b!.click();
    await until("b's history", () => page.$('job-history').textContent!.includes('history of b'));
    answerA({ status: 200, body: { data: [{ at: '2026-12-01T10:00:00.000Z', type: 'JobSubmitted', status: 'queued', message: 'history of a', progress: null }] } });
    await settle();
    expect(page.$('job-history').textContent).toContain('history of b');
    expect(page.$('job-history').textContent).not.toContain('history of a');
  });

  it('keeps keyboard focus on the row of the job opened from the list', async () => {
    const page = openPage(basics([job('job_a'), job('job_b')]));
    await until('the list', () => page.w.document.querySelectorAll('#jobs li button').length === 2);
    const button = page.w.document.querySelectorAll<HTMLButtonElement>('#jobs li button')[1]!;
    button.focus();
    button.click();
    await settle();
    expect((page.w.document.activeElement as HTMLElement).closest('li')?.dataset.jobId).toBe('job_b');
  });
});

describe('web page: the API key', () => {
  it('forgets the stored key when an empty field is saved, and leaves nothing of its jobs on the page', async () => {
    const page = openPage(basics([job('job_a')]));
    await until('the list', () => page.w.document.querySelector('#jobs li button') !== null);
    page.w.document.querySelector<HTMLButtonElement>('#jobs li button')!.click();
    await until('the panel', () => !page.$('job-panel').hidden);
    page.$('apiKey').value = '';
    submitForm(page, 'key-form');
    await settle();
    expect(page.w.localStorage.getItem('reelay.apiKey')).toBeNull();
    expect(page.$('jobs').children).toHaveLength(0);
    expect(page.$('job-panel').hidden).toBe(true);
    expect(page.$('err-apiKey').hidden).toBe(false);
  });

  it("drops an answer to the last key's request that comes after another key was entered", async () => {
    let answerAlice: (a: { status: number; body: unknown }) => void = () => undefined;
    let aliceLists = 0;
    const page = openPage([
      on('GET', '/v1/jobs?limit=10', (c) => (c.headers.Authorization === 'Bearer rly_alice' && ++aliceLists === 2 ? new Promise((resolve) => (answerAlice = resolve)) : undefined)),
      on('GET', '/v1/jobs?limit=10', (c) => (c.headers.Authorization === 'Bearer rly_bob' ? { status: 200, body: { data: [], nextCursor: null } } : undefined)),
      ...basics([job('job_of_alice')]),
    ]);
    await until('the list', () => page.w.document.querySelectorAll('#jobs li').length === 1);
    page.$('refresh').click();
    await until("alice's second list asked", () => aliceLists === 2);
    page.$('apiKey').value = 'rly_bob';
    submitForm(page, 'key-form');
    await until("bob's list", () => page.calls.some((c) => c.path === '/v1/jobs?limit=10' && c.headers.Authorization === 'Bearer rly_bob'));
    answerAlice({ status: 200, body: { data: [job('job_of_alice')], nextCursor: null } });
    await settle();
    expect(page.$('jobs').children).toHaveLength(0);
  });

  it("shows none of the last user's jobs once another key is entered, even one the API refuses", async () => {
    const page = openPage([on('GET', '/v1/models', (c) => (c.headers.Authorization === 'Bearer rly_bob' ? { status: 401, body: { error: { code: 'unauthorized', message: 'The API key is not valid.' } } } : undefined)), ...basics([job('job_a')])]);
    await until('the list', () => page.w.document.querySelector('#jobs li button') !== null);
    page.w.document.querySelector<HTMLButtonElement>('#jobs li button')!.click();
    await until('the panel', () => !page.$('job-panel').hidden);
    page.$('apiKey').value = 'rly_bob';
    submitForm(page, 'key-form');
    await until('the refusal', () => !page.$('err-apiKey').hidden);
    expect(page.$('jobs').children).toHaveLength(0);
    expect(page.$('job-panel').hidden).toBe(true);
    expect(page.w.localStorage.getItem('reelay.apiKey')).toBeNull();
  });
});
