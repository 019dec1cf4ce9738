/** Clocks of reelay and the provider may disagree by this much. */
const CLOCK_SKEW_MS = 5 * 60_000;

/**
 * Whether a page of a provider's task list (creation times in ms, in list order) proves that no
 * later page holds a task made at or after `notBefore`: the page is ordered newest first and ends
 * with a task made well before it. Reconciliation can then stop and answer "not found" instead of
 * reading the whole list. Neither Ark nor Luma documents its list order, so it is checked on each
 * page: a page not newest first proves nothing, and the scan goes on.
 */
export function listedPast(createdAtMs: readonly (number | undefined)[], notBefore: Date | undefined): boolean {
  if (!notBefore || createdAtMs.length === 0) return false;
  const times = createdAtMs.filter((t): t is number => typeof t === 'number' && Number.isFinite(t));
  if (times.length !== createdAtMs.length) return false;
  for (let i = 1; i < times.length; i++) if (times[i] > times[i - 1]) return false;
  return times.at(-1)! < notBefore.getTime() - CLOCK_SKEW_MS;
}
