// The reelay web page: plain DOM code against the public API (api.md), with the API key from localStorage.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const KEY_STORE = 'reelay.apiKey';
  const TERMINAL = ['succeeded', 'failed', 'canceled'];
  const FIELDS = ['prompt', 'model', 'aspectRatio', 'durationSeconds', 'resolution', 'cancelAfterSeconds', 'referenceImage'];
  let apiKey = localStorage.getItem(KEY_STORE) || '';
  let models = [];
  let watch = null; // AbortController of the job being followed
  let nextCursor = null;
  let videoUrl = null;
  let shown = null; // the job in the panel: { id, status, estimate }
  let history = null; // the panel's history read: { jobId, running, again }
  let session = 0; // counts key changes: an answer to a request made under another key is dropped

  // A request sent again (after an error, or an answer lost to the network) carries the key its
  // first try had, so a try the server did record gives back that job instead of making and
  // charging a second one. The key is dropped once the request has answered with a job.
  const retryKeys = new Map(); // route and body → Idempotency-Key
  function idempotencyKey(request) {
    if (!retryKeys.has(request)) {
      // getRandomValues, not randomUUID: the page may be served over plain HTTP (not a secure context).
      const bytes = crypto.getRandomValues(new Uint8Array(16));
      retryKeys.set(request, `web-${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`);
    }
    return retryKeys.get(request);
  }

  class ApiError extends Error {
    constructor(status, error) {
      super(error.message || 'The request failed.');
      this.status = status;
      this.code = error.code;
      this.details = error.details || [];
    }
  }

  async function api(path, init = {}) {
    const res = await fetch(path, { ...init, headers: { Authorization: `Bearer ${apiKey}`, ...(init.headers || {}) } });
    if (!res.ok) {
      const body = await res.json().catch(() => ({}));
      throw new ApiError(res.status, body.error || { message: `The request failed (${res.status}).` });
    }
    return res;
  }

  // ---- errors next to their fields ----
  function fieldOf(path) {
    const head = String(path || '').split('.')[0];
    return FIELDS.includes(head) ? head : null;
  }
  function clearErrors() {
    for (const f of [...FIELDS, 'apiKey']) showFieldError(f, null);
    $('form-error').hidden = true;
  }
  function showFieldError(field, message) {
    const input = $(field), out = $(`err-${field}`);
    if (!out) return;
    out.textContent = message || '';
    out.hidden = !message;
    if (input) input.setAttribute('aria-invalid', message ? 'true' : 'false');
  }
  function showError(err, fallbackField) {
    if (err instanceof ApiError && err.status === 401) {
      showFieldError('apiKey', err.message);
      $('apiKey').focus();
      return;
    }
    const byField = new Map();
    for (const d of (err.details || [])) {
      const f = fieldOf(d.path) || fallbackField;
      if (f) byField.set(f, [...(byField.get(f) || []), d.message]);
    }
    if (byField.size === 0 && fallbackField) byField.set(fallbackField, [err.message]);
    for (const [f, messages] of byField) showFieldError(f, messages.join(' '));
    // The overall message too, unless it is already shown as the only field's error.
    if (byField.size === 0 || (err.details || []).length > 0) {
      $('form-error').textContent = err.message;
      $('form-error').hidden = false;
    }
    const first = [...byField.keys()][0];
    if (first && $(first)) $(first).focus();
  }

  // ---- model, ratio and duration: only what the chosen model can do ----
  function fill(select, values, label, keep) {
    const previous = keep ? select.value : '';
    select.replaceChildren(...values.map((v) => new Option(label(v), String(v))));
    if (values.map(String).includes(previous)) select.value = previous;
  }
  function onModelChange() {
    const m = models.find((x) => x.id === $('model').value);
    if (!m) return;
    fill($('aspectRatio'), m.aspectRatios, (v) => v, true);
    fill($('durationSeconds'), m.durations, (v) => `${v} s`, true);
    fill($('resolution'), m.resolutions, (v) => v, true);
    $('reference-field').hidden = !m.imageToVideo;
    if (!m.imageToVideo) $('referenceImage').value = '';
    $('referenceImage').required = !m.textToVideo;
    document.querySelector('label[for=referenceImage]').textContent = `Reference image (${m.textToVideo ? 'optional' : 'required'}: PNG, JPEG or WebP)`;
  }
  async function loadModels() {
    const body = await (await api('/v1/models')).json();
    models = body.data;
    fill($('model'), models.map((m) => m.id), (id) => {
      const m = models.find((x) => x.id === id);
      return `${id} (${m.creditsPerSecond} credit${m.creditsPerSecond === 1 ? '' : 's'}/s)`;
    }, true);
    onModelChange();
  }

  // ---- submit ----
  async function submit(event) {
    event.preventDefault();
    clearErrors();
    if (!apiKey) { showFieldError('apiKey', 'Enter your API key first.'); $('apiKey').focus(); return; }
    const button = $('submit');
    button.disabled = true;
    const mine = session;
    try {
      const request = {
        model: $('model').value,
        prompt: $('prompt').value,
        aspectRatio: $('aspectRatio').value,
        durationSeconds: Number($('durationSeconds').value),
        resolution: $('resolution').value || undefined,
        cancelAfterSeconds: $('cancelAfterSeconds').value ? Number($('cancelAfterSeconds').value) : undefined,
      };
      const file = $('reference-field').hidden ? null : $('referenceImage').files[0];
      if (file) {
        try {
          const asset = await (await api('/v1/assets', { method: 'POST', headers: { 'Content-Type': file.type || 'application/octet-stream' }, body: file })).json();
          request.referenceImage = { assetId: asset.id };
        } catch (err) {
          showError(err, 'referenceImage');
          return;
        }
      }
      const body = JSON.stringify(request);
      const retry = `POST /v1/jobs ${body}`;
      const job = await (await api('/v1/jobs', { method: 'POST', headers: { 'Content-Type': 'application/json', 'Idempotency-Key': idempotencyKey(retry) }, body })).json();
      showMade(job, retry, mine);
    } catch (err) {
      if (mine !== session) return;
      showError(err, null);
    } finally {
      button.disabled = false;
    }
  }

  // ---- one job: live status (SSE over fetch, so the Authorization header can be sent), history, video ----
  // ---- when an unfinished job is expected: GET /v1/jobs/{id} carries the model's recent finish times ----
  function clock(iso, seconds) {
    return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', ...(seconds ? { second: '2-digit' } : {}) });
  }
  function span(ms) {
    const s = Math.max(1, Math.round(ms / 1000));
    return s < 90 ? `${s} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`;
  }
  function showEstimate() {
    const e = shown && !TERMINAL.includes(shown.status) ? shown.estimate : null;
    $('job-estimate').hidden = $('job-estimate-term').hidden = !e;
    if (!e) return;
    const from = `the last ${e.basedOnJobs} ${shown.model} jobs`;
    const seconds = Date.parse(e.readyByP90) - Date.parse(e.readyByP50) < 120000; // two times in the same minute would read alike
    $('job-estimate').textContent = Date.now() < Date.parse(e.readyByP90)
      ? `Usually ready around ${clock(e.readyByP50, seconds)}; 9 in 10 are ready by ${clock(e.readyByP90, seconds)} (from ${from}).`
      : `Taking longer than usual: 9 in 10 of ${from} were ready within ${span(Date.parse(e.readyByP90) - Date.parse(shown.createdAt))}.`;
  }
  // What only GET /v1/jobs/{id} tells (the estimate, the place in line), and a newer version of the job than the stream sent.
  async function loadDetails(jobId) {
    if (shown && shown.id === jobId) shown.detailsLoadedAt = Date.now();
    try {
      // Not revalidated from the browser's cache: its ETag (the version) does not cover the estimate or the place in line.
      const job = await (await api(`/v1/jobs/${jobId}`, { cache: 'no-store' })).json();
      if (shown && shown.id === jobId) {
        if (job.version > shown.version) render(job);
        shown.estimate = job.estimate || null;
        shown.queue = job.queue || null;
        showEstimate();
        showQueue();
      }
    } catch { /* an estimate is a convenience */ }
  }
  function showQueue() {
    const ahead = shown && ['queued', 'validating'].includes(shown.status) && shown.queue ? shown.queue.jobsAhead : null;
    $('job-queue').hidden = $('job-queue-term').hidden = ahead === null;
    if (ahead === null) return;
    $('job-queue').textContent = ahead === 0 ? `Next in line for ${shown.model}.`
      : `${ahead >= 1000 ? 'More than 1,000' : ahead} ${shown.model} ${ahead === 1 ? 'video was' : 'videos were'} asked for before yours and ${ahead === 1 ? 'has' : 'have'} not started yet.`;
  }

  // Every second: past its 90th percentile the text changes to "taking longer" (nothing on the
  // stream says so), and a job shown without an estimate (too little history yet) asks again now and
  // then. A waiting job's place in line is looked up every 3 s. A canceled job's stream ended at the
  // cancel, so what its provider did is looked up too: every 3 s for a minute, then every 30 s while
  // the provider is still stopping it; an unknown outcome (the cancel came mid-send) for two minutes.
  function cancelRefreshMs() {
    if (shown.status !== 'canceled' || !shown.completedAt) return null;
    const since = Date.now() - Date.parse(shown.completedAt);
    if (shown.providerTask === 'stopping') return since < 60000 ? 3000 : 30000;
    if (shown.providerTask === 'unknown' && since < 120000) return 3000;
    return null;
  }
  function tickEstimate() {
    showEstimate();
    if (!shown) return;
    const stale = Date.now() - shown.detailsLoadedAt;
    const every = ['queued', 'validating'].includes(shown.status) ? 3000 : cancelRefreshMs();
    if ((!TERMINAL.includes(shown.status) && !shown.estimate && stale > 30000) || (every !== null && stale > every)) void loadDetails(shown.id);
  }

  const PROVIDER_TASK = {
    none: 'Nothing was generated: no provider had started it.',
    stopping: 'The provider had started it; reelay is stopping it there, or following it until it ends where the provider cannot stop it.',
    stopped: 'The provider stopped it.',
    ended: 'The provider finished its work before it could be stopped; the video was not kept.',
    unknown: 'reelay cannot tell whether the provider started it: it was canceled while being sent, or followed until its deadline.',
  };

  function render(job) {
    const same = shown && shown.id === job.id;
    if (same && job.version < shown.version) return; // the stream catching up behind a newer GET
    const statusChanged = !same || shown.status !== job.status;
    shown = {
      id: job.id, model: job.model, createdAt: job.createdAt, completedAt: job.completedAt, status: job.status, version: job.version,
      providerTask: job.cancellation ? job.cancellation.providerTask : null,
      estimate: job.estimate || (same ? shown.estimate : null), detailsLoadedAt: same ? shown.detailsLoadedAt : 0,
      queue: job.queue || (same && !statusChanged ? shown.queue : null),
    };
    showEstimate();
    showQueue();
    const retry = job.status === 'failed' && typeof job.retryable === 'boolean'
      ? (job.retryable ? 'Yes: the trouble was on the provider\'s side and may have passed. Use Generate again.' : 'Not as it is: change the prompt, settings or image first.')
      : '';
    $('job-retry').textContent = retry;
    $('job-retry').hidden = $('job-retry-term').hidden = !retry;
    const atProvider = shown.providerTask ? PROVIDER_TASK[shown.providerTask] || '' : '';
    $('job-provider').textContent = atProvider;
    $('job-provider').hidden = $('job-provider-term').hidden = !atProvider;
    $('cancel').hidden = TERMINAL.includes(job.status);
    if (statusChanged && !TERMINAL.includes(job.status) && !job.estimate) void loadDetails(job.id);
    $('job-panel').hidden = false;
    $('job-id').textContent = `${job.id} · ${job.model} · ${job.aspectRatio} · ${job.durationSeconds} s`;
    $('job-status').textContent = job.status;
    $('job-status').dataset.status = job.status;
    $('job-message').textContent = job.message;
    $('job-progress').value = job.status === 'succeeded' ? 100 : (job.progress || 0);
    $('regenerate').hidden = !TERMINAL.includes(job.status);
    $('delete-output').hidden = !(job.status === 'succeeded' && job.output && !job.output.deletedAt);
    const file = job.output ? (job.output.deletedAt ? `deleted on ${new Date(job.output.deletedAt).toLocaleString()}` : job.output.expiresAt ? `kept until ${new Date(job.output.expiresAt).toLocaleString()}` : '') : '';
    $('job-file').textContent = file;
    $('job-file').hidden = $('job-file-term').hidden = !file;
    if (job.output && job.output.deletedAt) $('player').hidden = true;
    const NAMES = { durationSeconds: 'length', resolution: 'resolution', aspectRatio: 'shape' };
    const differs = ((job.output && job.output.differsFromRequest) || [])
      .map((d) => `${NAMES[d.field] || d.field} ${d.delivered}${d.field === 'durationSeconds' ? ' s' : ''} instead of ${d.requested}${d.field === 'durationSeconds' ? ' s' : ''}`)
      .join('; ');
    $('job-differs').textContent = differs;
    $('job-differs').hidden = $('job-differs-term').hidden = !differs;
    $('job-parent').textContent = job.parentJobId || '';
    $('job-parent').hidden = $('job-parent-term').hidden = !job.parentJobId;
    const deadline = job.cancelAt && !TERMINAL.includes(job.status) ? `${new Date(job.cancelAt).toLocaleString()}, if it is not ready by then` : '';
    $('job-deadline').textContent = deadline;
    $('job-deadline').hidden = $('job-deadline-term').hidden = !deadline;
    const fitted = job.referenceImageFitted;
    const sent = fitted ? `changed to suit ${job.model}: ${fitted.width}×${fitted.height}${fitted.cropped ? ', its edges cropped' : ''}` : '';
    $('job-image').textContent = sent;
    $('job-image').hidden = $('job-image-term').hidden = !sent;
    updateListItem(job);
  }
  // One history read at a time for the shown job: a stream replaying a long job's events asks once
  // more after the read under way, not once per event (which would spend the key's rate limit).
  function loadHistory(jobId) {
    if (history && history.jobId === jobId && history.running) { history.again = true; return; }
    const mine = { jobId, running: true, again: false };
    history = mine;
    void readHistory(mine);
  }
  async function readHistory(mine) {
    do {
      mine.again = false;
      try {
        const { data } = await (await api(`/v1/jobs/${mine.jobId}/events`)).json();
        if (history !== mine) return; // another job was opened meanwhile: its history is not this one
        $('job-history').replaceChildren(...data.map((e) => {
          const li = document.createElement('li');
          li.textContent = `${new Date(e.at).toLocaleTimeString()} — ${e.type}: ${e.status}. ${e.message}${e.progress != null ? ` (${e.progress}%)` : ''}`;
          return li;
        }));
      } catch { /* the history is a convenience; the status above is what matters */ }
    } while (mine.again && history === mine);
    mine.running = false;
  }
  // The player streams the video itself (Range requests) with a job token, since a <video> cannot
  // send the key; where the server has no token secret, the whole file is fetched with the key.
  // A load that fails (a token expired under a long pause, say) asks for a new token once.
  let playing = null; // { job, retried }
  function onPlayerError() {
    const player = $('player');
    if (!playing || !shown || shown.id !== playing.job.id || !player.getAttribute('src')) return;
    if (playing.retried) {
      $('job-message').textContent = 'The video could not be loaded. Open the job again to retry.';
      return;
    }
    const { job } = playing;
    const at = player.currentTime;
    void play(job, true).then(
      () => player.addEventListener('loadedmetadata', () => { player.currentTime = at; }, { once: true }),
      () => { $('job-message').textContent = 'The video could not be loaded. Open the job again to retry.'; },
    );
  }
  async function play(job, retried = false) {
    const mine = { job, retried };
    playing = mine;
    if (videoUrl) URL.revokeObjectURL(videoUrl);
    videoUrl = null;
    let src;
    let poster = '';
    try {
      const body = JSON.stringify({ expiresInSeconds: 3600 });
      const token = await (await api(`/v1/jobs/${job.id}/token`, { method: 'POST', body, headers: { 'Content-Type': 'application/json' } })).json();
      src = token.contentUrl;
      poster = token.posterUrl;
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 503) throw err;
      videoUrl = URL.createObjectURL(await (await api(`/v1/jobs/${job.id}/content`)).blob());
      src = videoUrl;
    }
    // Another job opened, or this video deleted, while the token was on its way.
    if (playing !== mine || !shown || shown.id !== job.id) return;
    const player = $('player');
    // Shown until the video plays; one that cannot be made leaves the player black, as before.
    player.poster = poster;
    player.src = src;
    player.hidden = false;
  }
  async function follow(jobId, signal) {
    let lastId = '';
    while (!signal.aborted) {
      let terminal = false;
      try {
        const res = await api(`/v1/jobs/${jobId}/stream`, { headers: lastId ? { 'Last-Event-ID': lastId } : {}, signal });
        if (res.status === 204) return; // resumed after the job's last event: nothing more will come
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const fields = {};
            for (const line of block.split('\n')) {
              if (!line || line.startsWith(':')) continue;
              const i = line.indexOf(':');
              fields[line.slice(0, i)] = line.slice(i + 1).replace(/^ /, '');
            }
            if (fields.event !== 'job' || !fields.data) continue;
            lastId = fields.id || lastId;
            const job = JSON.parse(fields.data);
            render(job);
            loadHistory(jobId);
            if (TERMINAL.includes(job.status)) {
              terminal = true;
              if (job.status === 'succeeded' && !job.output.deletedAt) await play(job).catch(() => { $('job-message').textContent = 'The video could not be loaded. Open the job again to retry.'; });
            }
          }
        }
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof ApiError && err.status < 500 && err.status !== 429) { $('job-message').textContent = err.message; return; }
      }
      if (terminal) return;
      await new Promise((r) => setTimeout(r, 2000)); // the stream ended early: resume after the last event
    }
  }
  // A job action from the panel's buttons: the button is disabled while it runs, and a refusal is shown under them.
  async function jobAction(buttonId, action) {
    const button = $(buttonId);
    button.disabled = true;
    $('regenerate-error').hidden = true;
    try {
      await action();
    } catch (err) {
      $('regenerate-error').textContent = err.message;
      $('regenerate-error').hidden = false;
    } finally {
      button.disabled = false;
    }
  }
  // A new job with the same settings (charged like a submit), followed in the panel.
  async function regenerate() {
    if (!shown) return;
    const id = shown.id;
    const mine = session;
    await jobAction('regenerate', async () => {
      const path = `/v1/jobs/${id}/regenerate`;
      const retry = `POST ${path}`;
      const job = await (await api(path, { method: 'POST', headers: { 'Idempotency-Key': idempotencyKey(retry) } })).json();
      showMade(job, retry, mine);
    });
  }
  // Cancels the shown job; the answer (the canceled job) is shown at once, the stream then ends.
  async function cancelJob() {
    if (!shown) return;
    const id = shown.id;
    await jobAction('cancel', async () => {
      const job = await (await api(`/v1/jobs/${id}/cancel`, { method: 'POST' })).json();
      if (!shown || shown.id !== id) return; // another job was opened meanwhile
      render(job);
      loadHistory(id);
    });
  }
  // Deletes the shown job's video file (asked first: it cannot be undone); the job stays, saying so.
  async function deleteOutput() {
    if (!shown || !window.confirm('Delete this video? The file is removed for good; the job and its settings stay.')) return;
    const id = shown.id;
    await jobAction('delete-output', async () => {
      const job = await (await api(`/v1/jobs/${id}/output`, { method: 'DELETE' })).json();
      if (!shown || shown.id !== id) return; // another job was opened meanwhile
      playing = null;
      const player = $('player');
      player.pause();
      player.removeAttribute('src');
      player.removeAttribute('poster');
      if (videoUrl) URL.revokeObjectURL(videoUrl);
      videoUrl = null;
      render(job);
      loadHistory(job.id);
    });
  }
  function openJob(job) {
    if (watch) watch.abort();
    playing = null;
    $('regenerate-error').hidden = true;
    watch = new AbortController();
    const player = $('player');
    player.hidden = true;
    player.removeAttribute('src');
    player.removeAttribute('poster');
    $('job-history').replaceChildren();
    history = null;
    render(job);
    loadHistory(job.id);
    void follow(job.id, watch.signal);
    $('job-panel').scrollIntoView({ block: 'nearest' });
  }

  // ---- past jobs ----
  function jobItem(job) {
    const li = document.createElement('li');
    li.dataset.jobId = job.id;
    const button = document.createElement('button');
    button.type = 'button';
    const title = document.createElement('span');
    title.textContent = job.prompt.length > 80 ? `${job.prompt.slice(0, 80)}…` : job.prompt;
    const st = document.createElement('span');
    st.className = 'st';
    st.textContent = `${job.status} · ${new Date(job.createdAt).toLocaleString()}`;
    button.append(title, st);
    button.setAttribute('aria-label', `${job.prompt} — ${job.status}`);
    button.addEventListener('click', () => openJob(job));
    li.append(button);
    return li;
  }
  function updateListItem(job) {
    const li = document.querySelector(`#jobs li[data-job-id="${job.id}"]`);
    if (!li) return;
    // The row's button may be the one just pressed: keyboard focus stays on the row, not on <body>.
    const focused = li.contains(document.activeElement);
    const item = jobItem(job);
    li.replaceWith(item);
    if (focused) item.querySelector('button').focus();
  }
  // A job a submit or regenerate made: its retry key is done with, and it is shown unless the key
  // changed while it was being made.
  function showMade(job, retry, mine) {
    retryKeys.delete(retry);
    if (mine !== session) return;
    openJob(job);
    void loadJobs(true).then(() => mine === session && listed(job));
  }
  // A job just made heads the list even when the list (a projection) does not hold it yet.
  function listed(job) {
    if (!document.querySelector(`#jobs li[data-job-id="${job.id}"]`)) $('jobs').prepend(jobItem(job));
  }
  async function loadJobs(reset) {
    if (!apiKey) return;
    if (reset) nextCursor = null;
    const q = new URLSearchParams({ limit: '10' });
    if (nextCursor) q.set('cursor', nextCursor);
    const mine = session;
    try {
      const page = await (await api(`/v1/jobs?${q}`)).json();
      if (mine !== session) return;
      const items = page.data.map(jobItem);
      if (reset) $('jobs').replaceChildren(...items); else $('jobs').append(...items);
      nextCursor = page.nextCursor;
      $('more').hidden = !nextCursor;
    } catch (err) {
      if (mine !== session) return;
      showError(err, null);
    }
  }

  // Another key is another user: nothing of the last one's jobs stays on the page.
  function forgetShown() {
    session++;
    if (watch) watch.abort();
    watch = null;
    shown = null;
    playing = null;
    history = null;
    retryKeys.clear();
    const player = $('player');
    player.pause();
    player.removeAttribute('src');
    player.removeAttribute('poster');
    player.hidden = true;
    if (videoUrl) URL.revokeObjectURL(videoUrl);
    videoUrl = null;
    $('job-panel').hidden = true;
    $('job-history').replaceChildren();
    $('jobs').replaceChildren();
    $('more').hidden = true;
    nextCursor = null;
  }
  async function useKey(event) {
    if (event) event.preventDefault();
    clearErrors();
    const key = $('apiKey').value.trim();
    if (key !== apiKey) forgetShown();
    apiKey = key;
    if (!apiKey) {
      // Saving an empty field is how a key is taken off a shared computer.
      localStorage.removeItem(KEY_STORE);
      showFieldError('apiKey', 'No key is kept in this browser now. Enter an API key to go on.');
      return;
    }
    try {
      await loadModels();
      localStorage.setItem(KEY_STORE, apiKey);
      await loadJobs(true);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) localStorage.removeItem(KEY_STORE);
      showError(err, 'apiKey');
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('key-form').addEventListener('submit', useKey);
    $('job-form').addEventListener('submit', submit);
    $('model').addEventListener('change', onModelChange);
    $('refresh').addEventListener('click', () => loadJobs(true));
    $('more').addEventListener('click', () => loadJobs(false));
    $('regenerate').addEventListener('click', regenerate);
    $('delete-output').addEventListener('click', deleteOutput);
    $('cancel').addEventListener('click', cancelJob);
    $('player').addEventListener('error', onPlayerError);
    $('player').addEventListener('loadeddata', () => { if (playing) playing.retried = false; });
    setInterval(tickEstimate, 1000);
    if (apiKey) {
      $('apiKey').value = apiKey;
      void useKey();
    }
  });
})();
