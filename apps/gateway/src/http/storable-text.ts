import type { ErrorDetail } from '@reelay/contracts';
import { invalidRequest } from '../errors/api-exception';

// PostgreSQL's text and jsonb cannot hold U+0000, and jsonb refuses unpaired UTF-16 surrogates
// ("\ud800" is valid JSON, so JSON.parse lets it through). Either one reaching an INSERT fails the
// whole command with a server error, so the gateway refuses such text up front with a 400.
const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const isStorable = (s: string) => !s.includes('\u0000') && !UNPAIRED_SURROGATE.test(s);

/**
 * Deepest nesting of arrays and objects accepted. No request shape needs more than a few levels;
 * code that walks a value recursively (serializers, schema checks) overflows the stack on a body of
 * tens of thousands of levels, which JSON.parse accepts.
 */
export const MAX_NESTING = 64;

const TEXT_PROBLEM = 'must not contain NUL characters or unpaired surrogates';
const DEPTH_PROBLEM = `must not be nested more than ${MAX_NESTING} levels deep`;

/**
 * The first string (value or object key) that cannot be stored, or the first value nested too
 * deep, in document order; null when there is none. Walked with a stack of its own, never by
 * recursion, for the reason above.
 */
export function findUnstorable(value: unknown): ErrorDetail | null {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: '', depth: 0 }];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const { value: v, path, depth } = item;
    const here = path || '(body)';
    if (typeof v === 'string') {
      if (!isStorable(v)) return { path: here, message: TEXT_PROBLEM };
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= MAX_NESTING) return { path: here, message: DEPTH_PROBLEM };
    const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v);
    for (const [key] of entries) if (!isStorable(key)) return { path: here, message: TEXT_PROBLEM };
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i]!;
      stack.push({ value: child, path: path ? `${path}.${key}` : key, depth: depth + 1 });
    }
  }
  return null;
}

/** 400 when `value` holds text that cannot be stored (NUL characters, unpaired surrogates) or is nested too deep. */
export function assertStorableText(value: unknown): void {
  const detail = findUnstorable(value);
  if (detail === null) return;
  throw invalidRequest(detail.message === DEPTH_PROBLEM ? 'The request is nested too deeply.' : 'The request contains text that cannot be stored.', [detail]);
}
