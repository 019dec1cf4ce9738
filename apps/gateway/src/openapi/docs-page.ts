import { createHash } from 'node:crypto';

/**
 * /docs: renders /openapi.json in the browser with plain DOM code (no CDN, no vendored viewer):
 * operations grouped by tag, parameters, request bodies, responses, examples and schemas.
 */
export const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>reelay API reference</title>
<style>
  :root { color-scheme: light dark; --fg: #1b1d21; --muted: #5b616b; --bg: #fff; --card: #f5f6f8; --line: #d9dce1; --accent: #2f5fd0; }
  @media (prefers-color-scheme: dark) { :root { --fg: #e8eaee; --muted: #a3a9b3; --bg: #15171b; --card: #1f2228; --line: #343842; --accent: #7ea2ff; } }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
  header, main { max-width: 980px; margin: 0 auto; padding: 1rem; }
  h1 { margin: .2rem 0; } h2 { margin-top: 2rem; border-bottom: 1px solid var(--line); }
  a { color: var(--accent); }
  nav ul { display: flex; flex-wrap: wrap; gap: .5rem 1rem; padding: 0; list-style: none; }
  details.op { border: 1px solid var(--line); border-radius: 8px; margin: .6rem 0; background: var(--card); }
  details.op > summary { cursor: pointer; padding: .6rem .8rem; display: flex; gap: .7rem; align-items: baseline; flex-wrap: wrap; }
  summary:focus-visible, a:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
  .method { font: 700 .8rem ui-monospace, monospace; text-transform: uppercase; padding: .1rem .45rem; border-radius: 4px; color: #fff; background: #4a5568; }
  .get { background: #2f7d4f; } .post { background: #2f5fd0; } .delete { background: #b3362f; }
  code, pre { font: 13px/1.45 ui-monospace, monospace; }
  .path { font-weight: 600; }
  .body { padding: 0 .9rem .9rem; }
  pre { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: .6rem; overflow: auto; max-height: 24rem; }
  table { border-collapse: collapse; width: 100%; } th, td { text-align: left; border-bottom: 1px solid var(--line); padding: .3rem .4rem; vertical-align: top; }
  .muted { color: var(--muted); }
</style>
</head>
<body>
<header><h1 id="title">reelay API</h1><p id="desc" class="muted">Loading /openapi.json…</p><nav aria-label="Sections"><ul id="toc"></ul></nav></header>
<main id="ops"></main>
<script>
(async () => {
  const doc = await (await fetch('/openapi.json')).json();
  const el = (tag, attrs = {}, ...kids) => { const e = document.createElement(tag); for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v); for (const k of kids) e.append(k); return e; };
  const pre = (v) => el('pre', {}, typeof v === 'string' ? v : JSON.stringify(v, null, 2));
  const slug = (s) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  document.getElementById('title').textContent = doc.info.title + ' ' + doc.info.version;
  document.getElementById('desc').textContent = doc.info.description;
  const byTag = new Map();
  for (const [path, item] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(item)) {
    const tag = (op.tags || ['Other'])[0];
    if (!byTag.has(tag)) byTag.set(tag, []);
    byTag.get(tag).push({ path, method, op });
  }
  const toc = document.getElementById('toc'), main = document.getElementById('ops');
  const media = (content) => { const box = el('div'); for (const [type, m] of Object.entries(content || {})) { box.append(el('p', {}, el('code', {}, type))); if (m.schema) box.append(el('p', { class: 'muted' }, 'Schema'), pre(m.schema)); if (m.example !== undefined) box.append(el('p', { class: 'muted' }, 'Example'), pre(m.example)); } return box; };
  for (const [tag, ops] of byTag) {
    toc.append(el('li', {}, el('a', { href: '#' + slug(tag) }, tag)));
    main.append(el('h2', { id: slug(tag) }, tag));
    for (const { path, method, op } of ops) {
      const body = el('div', { class: 'body' });
      if (op.description) body.append(el('p', {}, op.description));
      body.append(el('p', { class: 'muted' }, op.security && op.security.length ? 'Requires Authorization: Bearer <api key>' : 'No API key needed'));
      if (op.parameters) {
        const t = el('table', {}, el('tr', {}, el('th', {}, 'Parameter'), el('th', {}, 'In'), el('th', {}, 'Schema'), el('th', {}, 'Description')));
        for (const p of op.parameters) t.append(el('tr', {}, el('td', {}, el('code', {}, p.name + (p.required ? ' *' : ''))), el('td', {}, p.in), el('td', {}, el('code', {}, JSON.stringify(p.schema))), el('td', {}, p.description || '')));
        body.append(el('h3', {}, 'Parameters'), t);
      }
      if (op.requestBody) body.append(el('h3', {}, 'Request body'), media(op.requestBody.content));
      body.append(el('h3', {}, 'Responses'));
      for (const [status, r] of Object.entries(op.responses)) body.append(el('h4', {}, status + ' ' + r.description), media(r.content));
      main.append(el('details', { class: 'op', id: op.operationId }, el('summary', {}, el('span', { class: 'method ' + method }, method), el('code', { class: 'path' }, path), el('span', {}, op.summary)), body));
    }
  }
  toc.append(el('li', {}, el('a', { href: '#schemas' }, 'Schemas')));
  main.append(el('h2', { id: 'schemas' }, 'Schemas'));
  for (const [name, schema] of Object.entries(doc.components.schemas)) main.append(el('details', { class: 'op', id: 'schema-' + name }, el('summary', {}, el('code', { class: 'path' }, name)), el('div', { class: 'body' }, pre(schema))));
})().catch((err) => { document.getElementById('desc').textContent = 'Could not load /openapi.json: ' + err.message; });
</script>
</body>
</html>
`;

const inlineHash = (tag: string) => {
  const body = DOCS_PAGE.slice(DOCS_PAGE.indexOf(`<${tag}>`) + tag.length + 2, DOCS_PAGE.indexOf(`</${tag}>`));
  return `'sha256-${createHash('sha256').update(body, 'utf8').digest('base64')}'`;
};

/** The page's own inline script and style, by hash: nothing else inline runs, as on the web page at `/`. */
export const DOCS_CSP = `default-src 'self'; script-src ${inlineHash('script')}; style-src ${inlineHash('style')}; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
