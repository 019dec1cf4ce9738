import type { ErrorDetail } from '@reelay/contracts';
import { invalidRequest } from '../errors/api-exception';

// PostgreSQL's text and jsonb cannot hold U+0000, and jsonb refuses unpaired UTF-16 surrogates
// ("\ud800" is valid JSON, so JSON.parse lets it through). Either one reaching an INSERT fails the
// whole command with a server error, so the gateway refuses such text up front with a 400.
const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const isStorable = (s: string) => !s.includes('\u0000') && !UNPAIRED_SURROGATE.test(s);

/** The path of the first string (value or object key) that cannot be stored, or null. */
export function findUnstorableText(value: unknown, path = ''): string | null {
  if (typeof value === 'string') return isStorable(value) ? null : path || '(body)';
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnstorableText(value[i], path ? `${path}.${i}` : String(i));
      if (found !== null) return found;
    }
    return null;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      const at = path ? `${path}.${key}` : key;
      if (!isStorable(key)) return path || '(body)';
      const found = findUnstorableText(v, at);
      if (found !== null) return found;
    }
  }
  return null;
}

/** 400 when `value` holds text that cannot be stored (NUL characters, unpaired surrogates). */
export function assertStorableText(value: unknown): void {
  const path = findUnstorableText(value);
  if (path === null) return;
  const detail: ErrorDetail = { path, message: 'must not contain NUL characters or unpaired surrogates' };
  throw invalidRequest('The request contains text that cannot be stored.', [detail]);
}
