/**
 * Per-request behaviour, from `[sim:name]` / `[sim:name=value]` tags in the prompt (several tags,
 * or several `name=value` pairs in one tag separated by commas or spaces) or from the
 * `x-sim-scenario` header with the same syntax (`success_after=3, progress`). Header wins.
 */
export interface Scenario {
  /** Checks (or wall-clock ticks) from submit to the terminal state. */
  success_after?: number;
  /** Report progress while running. */
  progress?: boolean;
  /** Ticks spent queued/throttled (Runway THROTTLED) before running. */
  queue?: number;
  moderation_submit?: boolean;
  moderation_after?: boolean;
  /** Provider failure code (or, for Luma, failure_reason text) the task fails with. */
  fail_code?: string;
  fail_message?: string;
  /** First N submits with this key/prompt answer 429. */
  rate_limit?: number;
  /** Retry-After seconds on those 429s (default 1). */
  retry_after?: number;
  /** First N submits with this key/prompt answer a 5xx. */
  server_error?: number;
  server_status?: number;
  /** First N checks of the task answer a 5xx / 429. */
  check_server_error?: number;
  check_rate_limit?: number;
  /** Synchronous rejection: `status[:code]`, e.g. `400:InvalidParameter`, `401`. */
  reject?: string;
  /** Delay each response for this task by N ms. */
  slow?: number;
  /** Output URL valid for N ms after it is issued (bare tag: already expired). */
  expire_output?: number;
  no_output?: boolean;
  never_finish?: boolean;
  /** Deliver the terminal callback twice. */
  callback_duplicate?: boolean;
  /** After the terminal callback, deliver a stale `running` callback N ms later (bare: 50). */
  callback_late?: number;
  /**
   * The first N status reads answer a status word the real API does not have today (Seedance:
   * `preprocessing`), as a provider adding a state would: what an adapter must survive.
   */
  unknown_status?: number;
  /** fal: the first N reads of a finished request's result answer a bare 502 from the edge (no fal error type). */
  result_server_error?: number;
  /** The first N downloads of the output file answer 503 (a storage edge failing for a moment). */
  output_server_error?: number;
  /** fal: a running request stops when asked to cancel (by default its app ignores the signal, as fal allows). */
  honor_cancel?: boolean;
  /** MiniMax: the finished task's file is gone when asked for (files/retrieve answers 2013, as for a file expired or removed). */
  file_gone?: boolean;
}

const NUMERIC = new Set([
  'success_after', 'queue', 'rate_limit', 'retry_after', 'server_error', 'server_status', 'check_server_error',
  'check_rate_limit', 'slow', 'expire_output', 'callback_late', 'unknown_status',
  'result_server_error', 'output_server_error',
]);
const BOOLEAN = new Set(['progress', 'moderation_submit', 'moderation_after', 'no_output', 'never_finish', 'callback_duplicate', 'honor_cancel', 'file_gone']);
const STRING = new Set(['fail_code', 'fail_message', 'reject']);
const BARE_DEFAULTS: Record<string, number> = { expire_output: 0, callback_late: 50, rate_limit: 1, server_error: 1, check_server_error: 1, check_rate_limit: 1, unknown_status: 1, result_server_error: 1, output_server_error: 1 };

export function parseScenario(prompt: string | undefined, header: string | undefined): Scenario {
  const out: Scenario = {};
  const tagRe = /\[sim:([^\]]*)\]/g;
  for (const m of (prompt ?? '').matchAll(tagRe)) applyPairs(out, m[1]);
  if (header) applyPairs(out, header);
  return out;
}

/** The prompt with `[sim:...]` tags removed (what a provider would "see"). */
export function stripScenarioTags(prompt: string): string {
  return prompt.replace(/\[sim:[^\]]*\]/g, '').replace(/\s{2,}/g, ' ').trim();
}

function applyPairs(out: Scenario, text: string): void {
  // Split on commas/whitespace, but keep free text values of fail_code/fail_message intact when quoted or last.
  const pairs = splitPairs(text);
  const target = out as Record<string, unknown>;
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const name = (eq < 0 ? pair : pair.slice(0, eq)).trim();
    const value = eq < 0 ? undefined : pair.slice(eq + 1).trim();
    if (!name) continue;
    if (NUMERIC.has(name)) {
      const n = value === undefined ? BARE_DEFAULTS[name] : Number(value);
      if (n !== undefined && Number.isFinite(n)) target[name] = n;
    } else if (BOOLEAN.has(name)) {
      target[name] = value === undefined ? true : value !== 'false' && value !== '0';
    } else if (STRING.has(name) && value !== undefined) {
      target[name] = value.replace(/^"(.*)"$/, '$1');
    }
  }
}

function splitPairs(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    if (!quoted && (ch === ',' || ch === ' ' || ch === ';')) {
      if (cur) out.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  if (cur) out.push(cur);
  return out;
}
