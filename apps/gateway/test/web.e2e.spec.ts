/// <reference lib="dom" />
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WORKSPACE_ROOT } from '@reelay/testing';
import { chromium, type Browser, type Page } from 'playwright-core';
import { NO_HISTORY_TTL_MS } from '../src/job-estimate/job-estimates';
import { startE2EStack, type E2EStack } from './e2e-stack';

jest.setTimeout(120_000);

const SHOTS = join(WORKSPACE_ROOT, 'test-output', 'gateway-web');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let stack: E2EStack;
let browser: Browser;
let key: string;

async function openWithKey(page: Page, on: { stack: E2EStack; key: string } = { stack, key }): Promise<void> {
  await page.goto(on.stack.url + '/');
  await page.getByLabel('Your API key').fill(on.key);
  await page.getByRole('button', { name: 'Use key' }).click();
  await page.locator('#model option[value="local-preview"]').waitFor({ state: 'attached' });
}

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true });
  stack = await startE2EStack('gwweb', { RATE_LIMIT_BURST: '1000' });
  key = await stack.createKey('web-user');
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('the web page in headless Chromium', () => {
  it('submits a prompt, shows live status and plays the MP4 from the local renderer', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await openWithKey(page);
    // Only what the model can do is offered.
    expect(await page.locator('#durationSeconds option').evaluateAll((o) => o.map((x) => (x as HTMLOptionElement).value))).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
    expect(await page.locator('#aspectRatio option').evaluateAll((o) => o.map((x) => (x as HTMLOptionElement).value))).toEqual(['16:9', '9:16', '1:1']);
    expect(await page.locator('#reference-field').isHidden()).toBe(true);

    await page.getByLabel('Prompt').fill('a red fox running through snow');
    await page.getByLabel('Duration (seconds)').selectOption('3');
    await page.getByLabel('Aspect ratio').selectOption('16:9');
    await page.getByLabel('Resolution').selectOption('720p');
    await page.getByRole('button', { name: 'Generate video' }).click();

    // Live status: the statuses seen in the panel, recorded as they change.
    await page.locator('#job-status').waitFor();
    const seen = new Set<string>();
    const video = page.locator('#player');
    for (let i = 0; i < 600; i++) {
      seen.add((await page.locator('#job-status').textContent()) ?? '');
      if (await video.isVisible()) break;
      await page.waitForTimeout(50);
    }
    expect(seen.has('succeeded')).toBe(true);
    expect(await page.locator('#job-message').textContent()).toBe('Your video is ready.');
    expect(await page.locator('#job-progress').getAttribute('value')).toBe('100');

    const played = await video.evaluate(async (el: HTMLVideoElement) => {
      if (el.readyState < 1) await new Promise((r) => el.addEventListener('loadedmetadata', r, { once: true }));
      el.muted = true;
      await el.play();
      await new Promise((r) => setTimeout(r, 300));
      return { duration: el.duration, width: el.videoWidth, height: el.videoHeight, time: el.currentTime, error: el.error?.code ?? null };
    });
    expect(played.error).toBeNull();
    expect(Math.abs(played.duration - 3)).toBeLessThanOrEqual(0.2);
    expect(played).toMatchObject({ width: 1280, height: 720 });
    expect(played.time).toBeGreaterThan(0);
    // The player's still comes with the same token, and the browser can show it.
    expect(await video.getAttribute('poster')).toMatch(/^\/v1\/jobs\/job_\w+\/poster\?token=/);
    const still = await video.evaluate(async (el: HTMLVideoElement) => {
      const img = new Image();
      img.src = el.poster;
      await img.decode();
      return { width: img.naturalWidth, height: img.naturalHeight };
    });
    expect(still).toEqual({ width: 640, height: 360 });

    // The history came from the event log.
    await page.locator('#job-history li').last().filter({ hasText: 'succeeded' }).waitFor();
    await page.screenshot({ path: join(SHOTS, 'succeeded-desktop.png'), fullPage: true });

    // Generate again: a new job with the same settings, followed in the panel until its video plays.
    const firstId = (await page.locator('#job-id').textContent())!.split(' · ')[0];
    await page.getByRole('button', { name: 'Generate again' }).click();
    await page.locator('#job-id').filter({ hasNotText: firstId }).waitFor();
    expect(await page.locator('#job-parent').textContent()).toBe(firstId);
    await page.locator('#job-status').filter({ hasText: 'succeeded' }).waitFor({ timeout: 30_000 });
    await video.waitFor({ state: 'visible' });
    expect((await page.locator('#job-id').textContent())!).toMatch(/local-preview · 16:9 · 3 s$/);

    // Delete video: asked first; the job stays, saying its video was deleted, and the player goes.
    const secondId = (await page.locator('#job-id').textContent())!.split(' · ')[0]!;
    const asked: string[] = [];
    page.once('dialog', (dialog) => {
      asked.push(dialog.message());
      void dialog.accept();
    });
    await page.getByRole('button', { name: 'Delete video' }).click();
    await page.locator('#job-message').filter({ hasText: 'This video was deleted.' }).waitFor();
    expect(asked).toEqual([expect.stringMatching(/^Delete this video\?/)]);
    expect(await page.locator('#job-file').textContent()).toMatch(/^deleted on /);
    expect(await video.isHidden()).toBe(true);
    expect(await page.getByRole('button', { name: 'Delete video' }).isHidden()).toBe(true);
    expect((await fetch(`${stack.url}/v1/jobs/${secondId}/content`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(410);

    // Past jobs: the job is listed, and opening it shows its history again.
    await page.getByRole('button', { name: 'Refresh' }).click();
    const item = page.locator('#jobs li button').filter({ hasText: 'a red fox running through snow' });
    await item.first().waitFor();
    await item.first().click();
    await page.locator('#job-history li').first().filter({ hasText: 'JobSubmitted' }).waitFor();
    await page.close();
  });

  it('tells when an unfinished job is expected, from the model\'s recent jobs, and says so when it takes longer', async () => {
    const api = (path: string, init: RequestInit = {}) => fetch(stack.url + path, { ...init, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...init.headers } });
    const submit = async (prompt: string, durationSeconds: number, resolution: string) => {
      const res = await api('/v1/jobs', { method: 'POST', body: JSON.stringify({ model: 'local-preview', prompt, aspectRatio: '16:9', durationSeconds, resolution }) });
      expect(res.status).toBe(202);
      return ((await res.json()) as { id: string }).id;
    };
    // From the list: a GET of an unfinished job would work out (and cache for a minute) the estimate before there is history.
    const statusOf = async (id: string) => ((await (await api('/v1/jobs?limit=100')).json()) as { data: { id: string; status: string }[] }).data.find((j) => j.id === id)?.status;
    // The model's history: five short renders that succeed.
    const quick = [];
    for (let i = 0; i < 5; i++) quick.push(await submit(`a quick sketch ${i}`, 1, '480p'));
    for (const id of quick) for (let i = 0; i < 300 && (await statusOf(id)) !== 'succeeded'; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await Promise.all(quick.map(statusOf))).toEqual(Array(5).fill('succeeded'));
    // Long renders ahead of it in the renderer's queue (one at a time) keep the page's job unfinished.
    const blockers = [await submit('a long take', 10, '720p'), await submit('a second long take', 10, '720p'), await submit('a third long take', 10, '720p')];
    // The first test's page asked for its job's estimate while the model had no history; the gateway keeps that answer a few seconds.
    await new Promise((r) => setTimeout(r, NO_HISTORY_TTL_MS));

    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.clock.install(); // the page's clock runs as usual until it is moved on below
    await openWithKey(page);
    await page.getByLabel('Prompt').fill('a lighthouse at dusk');
    await page.getByLabel('Duration (seconds)').selectOption('2');
    await page.getByRole('button', { name: 'Generate video' }).click();
    const estimate = page.locator('#job-estimate');
    await estimate.waitFor({ state: 'visible', timeout: 15_000 });
    const usual = /^Usually ready around .+; 9 in 10 are ready by .+ \(from the last \d+ local-preview jobs\)\.$/;
    const longer = /^Taking longer than usual: 9 in 10 of the last \d+ local-preview jobs were ready within \d+ s\.$/;
    expect(await estimate.textContent()).toMatch(new RegExp(`${usual.source}|${longer.source}`));
    // Two minutes later by the page's clock the job, still behind the long renders, is past the quick renders' 90th percentile.
    await page.clock.fastForward('02:00');
    await estimate.filter({ hasText: longer }).waitFor({ timeout: 15_000 });
    expect(await page.locator('#job-status').textContent()).not.toBe('succeeded');
    await page.screenshot({ path: join(SHOTS, 'estimate-desktop.png'), fullPage: true });

    // The long renders still waiting are canceled (409: one that has finished); the job finishes and the estimate goes away.
    for (const id of blockers) expect([202, 409]).toContain((await api(`/v1/jobs/${id}/cancel`, { method: 'POST' })).status);
    await page.locator('#player').waitFor({ state: 'visible', timeout: 60_000 });
    expect(await page.locator('#job-status').textContent()).toBe('succeeded');
    expect(await estimate.isHidden()).toBe(true);
    await page.close();
  });

  it('shows the API error next to the field at fault, and works by keyboard at phone width', async () => {
    const page = await browser.newPage({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
    await openWithKey(page);
    // Keyboard only: focus the prompt, leave it blank, tab to the submit button and press Enter.
    await page.getByLabel('Prompt').focus();
    await page.keyboard.type('   ');
    for (let i = 0; i < 10 && (await page.evaluate(() => document.activeElement?.id)) !== 'submit'; i++) await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('submit');
    // The focused element has a visible outline.
    expect(await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle)).not.toBe('none');
    await page.keyboard.press('Enter');

    const error = page.locator('#err-prompt');
    await error.waitFor({ state: 'visible' });
    expect(await error.textContent()).toBe('Prompt must not be empty.');
    expect(await page.getByLabel('Prompt').getAttribute('aria-invalid')).toBe('true');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('prompt');
    // Nothing is wider than the phone screen.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await page.screenshot({ path: join(SHOTS, 'validation-error-phone.png'), fullPage: true });

    // An unknown key is reported next to the key field.
    await page.getByLabel('Your API key').fill('rly_not_a_real_key_000000000000000');
    await page.getByRole('button', { name: 'Use key' }).click();
    await page.locator('#err-apiKey').waitFor({ state: 'visible' });
    expect(await page.locator('#err-apiKey').textContent()).toContain('A valid API key is required');
    await page.close();
  });
});

describe('the web page with one render at a time at the provider (PROVIDER_MAX_IN_FLIGHT_LOCAL=1)', () => {
  let capped: E2EStack;
  let cappedKey: string;
  beforeAll(async () => {
    // Renders in real time (ffmpeg's -re): the render ahead must outlast the page's steps, which a
    // quiet machine's renderer (a 10 s video in 3 s) did not.
    const realTime = join(await mkdtemp(join(tmpdir(), 'realtime-ffmpeg-')), 'ffmpeg');
    await writeFile(realTime, `#!/bin/sh\nexec '${(require('@ffmpeg-installer/ffmpeg') as { path: string }).path}' -re "$@"\n`, { mode: 0o755 });
    capped = await startE2EStack('gwwebq', { RATE_LIMIT_BURST: '1000' }, { PROVIDER_MAX_IN_FLIGHT_LOCAL: '1' }, { FFMPEG_PATH: realTime });
    cappedKey = await capped.createKey('web-queue-user');
  });
  afterAll(() => capped?.stop());

  it('shows the place in line while the job waits, cancels it from the panel and says what the provider did', async () => {
    const api = (path: string, init: RequestInit = {}) => fetch(capped.url + path, { ...init, headers: { authorization: `Bearer ${cappedKey}`, 'content-type': 'application/json', ...init.headers } });
    const submit = async (prompt: string) => {
      const res = await api('/v1/jobs', { method: 'POST', body: JSON.stringify({ model: 'local-preview', prompt, aspectRatio: '16:9', durationSeconds: 10, resolution: '720p' }) });
      expect(res.status).toBe(202);
      return ((await res.json()) as { id: string }).id;
    };
    const statusOf = async (id: string) => ((await (await api(`/v1/jobs/${id}`)).json()) as { status: string }).status;
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await openWithKey(page, { stack: capped, key: cappedKey });
    await page.getByLabel('Prompt').fill('a canal at night');
    await page.getByLabel('Duration (seconds)').selectOption('10');
    await page.getByLabel('Give up if not ready in').selectOption('900');
    // One long render (10 s) holds the only place at the provider; a second one waits for it in reelay.
    const running = await submit('a long take');
    for (let i = 0; i < 100 && (await statusOf(running)) !== 'running'; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await statusOf(running)).toBe('running');
    const waiting = await submit('a second long take');
    await page.getByRole('button', { name: 'Generate video' }).click();
    const inLine = page.locator('#job-queue');
    await inLine.filter({ hasText: 'local-preview video was asked for before yours' }).waitFor({ timeout: 15_000 });
    expect(await inLine.textContent()).toBe('1 local-preview video was asked for before yours and has not started yet.');
    // The deadline chosen is the job's, and the panel says when it gives up.
    const pageJobId = (await page.locator('#job-id').textContent())!.split(' · ')[0];
    expect(((await (await api(`/v1/jobs/${pageJobId}`)).json()) as { cancelAfterSeconds?: number }).cancelAfterSeconds).toBe(900);
    expect(await page.locator('#job-deadline').textContent()).toMatch(/, if it is not ready by then$/);
    await page.screenshot({ path: join(SHOTS, 'in-line-desktop.png'), fullPage: true });

    // The job ahead is canceled: the panel's next look (every 3 s) finds the job next in line, before the render ahead ends.
    expect((await api(`/v1/jobs/${waiting}/cancel`, { method: 'POST' })).status).toBe(202);
    await inLine.filter({ hasText: 'Next in line for local-preview.' }).waitFor({ timeout: 15_000 });

    // The render ahead is canceled too (on a busy machine the steps above can outlast its 10 s, and
    // then it has succeeded instead): the page's job starts rendering, and is canceled from the panel.
    const canceledAhead = (await api(`/v1/jobs/${running}/cancel`, { method: 'POST' })).status;
    if (canceledAhead !== 202) expect({ canceledAhead, ahead: await statusOf(running) }).toEqual({ canceledAhead: 409, ahead: 'succeeded' });
    await page.locator('#job-status').filter({ hasText: 'running' }).waitFor({ timeout: 15_000 });
    expect(await inLine.isHidden()).toBe(true);
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    await page.locator('#job-status').filter({ hasText: 'canceled' }).waitFor();
    expect(await page.locator('#job-message').textContent()).toBe('This video was canceled.');
    expect(await page.getByRole('button', { name: 'Cancel', exact: true }).isHidden()).toBe(true);
    // The renderer stops the render; the panel looks again until it says so.
    await page.locator('#job-provider').filter({ hasText: 'The provider stopped it.' }).waitFor({ timeout: 20_000 });
    const jobId = (await page.locator('#job-id').textContent())!.split(' · ')[0]!;
    const job = (await (await api(`/v1/jobs/${jobId}`)).json()) as { status: string; cancellation?: { providerTask: string } };
    expect(job).toMatchObject({ status: 'canceled', cancellation: { providerTask: 'stopped' } });
    await page.screenshot({ path: join(SHOTS, 'canceled-desktop.png'), fullPage: true });
    await page.close();
  });
});

describe('the web page with a model whose provider limits reference images (Seedance, simulated)', () => {
  let withImages: E2EStack;
  let imagesKey: string;
  beforeAll(async () => {
    withImages = await startE2EStack('gwwebimg', { RATE_LIMIT_BURST: '1000' }, { PROVIDERS_ENABLED: 'local,seedance' });
    imagesKey = await withImages.createKey('web-image-user');
  });
  afterAll(() => withImages?.stop());

  it('uploads a reference image Seedance would refuse (3:1) and says what was sent instead', async () => {
    const ffmpeg: string = require('@ffmpeg-installer/ffmpeg').path;
    const wide = join(await mkdtemp(join(tmpdir(), 'wide-')), 'wide.png');
    execFileSync(ffmpeg, ['-loglevel', 'error', '-f', 'lavfi', '-i', 'color=c=purple:s=1200x400', '-frames:v', '1', wide]);
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await openWithKey(page, { stack: withImages, key: imagesKey });
    await page.getByLabel('Model').selectOption('seedance-1-0-pro');
    await page.getByLabel('Prompt').fill('a wide panorama, slowly [sim:success_after=1]');
    await page.locator('#referenceImage').setInputFiles(wide);
    await page.getByRole('button', { name: 'Generate video' }).click();
    const sent = page.locator('#job-image');
    await sent.filter({ hasText: 'changed to suit' }).waitFor({ timeout: 20_000 });
    expect(await sent.textContent()).toBe('changed to suit seedance-1-0-pro: 999×400, its edges cropped');
    await page.locator('#job-status').filter({ hasText: 'succeeded' }).waitFor({ timeout: 30_000 });
    await page.close();
  });
});
