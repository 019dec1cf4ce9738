/** Configurable prompt rules; a match fails the job with moderation_rejected before any provider sees it. */
export function moderationViolation(blockedTerms: readonly string[], texts: (string | null)[]): string | null {
  const haystack = texts.filter(Boolean).join('\n').toLowerCase();
  for (const term of blockedTerms) {
    const escaped = term.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    if (new RegExp(`(^|[^\\p{L}\\p{N}])${escaped}($|[^\\p{L}\\p{N}])`, 'u').test(haystack)) return term;
  }
  return null;
}
