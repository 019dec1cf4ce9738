import { ProviderError } from './provider-error';

/** Clocks of reelay and the provider may disagree by this much. */
const CLOCK_SKEW_MS = 5 * 60_000;

/**
 * Whether a page of a provider's task list (creation times in ms, in list order) proves that no
 * later page holds a task made at or after `notBefore`: the page is ordered newest first and ends
 * with a task made well before it. Neither Ark nor Luma documents its list order, so it is checked
 * on each page: a page not newest first proves nothing, and the scan goes on.
 */
export function listedPast(createdAtMs: readonly (number | undefined)[], notBefore: Date | undefined): boolean {
  if (!notBefore || createdAtMs.length === 0) return false;
  const times = createdAtMs.filter((t): t is number => typeof t === 'number' && Number.isFinite(t));
  if (times.length !== createdAtMs.length) return false;
  for (let i = 1; i < times.length; i++) if (times[i] > times[i - 1]) return false;
  return times.at(-1)! < notBefore.getTime() - CLOCK_SKEW_MS;
}

export interface TaskListScan<T> {
  /** For the error: whose tasks, e.g. "seedance tasks". */
  what: string;
  /** How many tasks, newest first, the scan may read. */
  budget: number;
  /** The page that starts after `read` tasks; `last` when the list has no more. */
  page(read: number): Promise<{ items: T[]; last: boolean }>;
  /** The task's id when it is the one made by the submission sought, else undefined. */
  match(task: T): string | undefined;
  createdAtMs(task: T): number | undefined;
  notBefore?: Date;
}

/**
 * Reconciliation by listing (findBySubmissionKey): the id of the task found; null when its absence
 * is proven (the list ended, or reached tasks made before the submission's first try); otherwise,
 * with older tasks left unread, a non-retryable `server` error, the unknown outcome that makes
 * dispatch fail the job rather than submit (and bill) it again.
 */
export async function findInTaskList<T>(scan: TaskListScan<T>): Promise<string | null> {
  for (let read = 0; read < scan.budget; ) {
    const { items, last } = await scan.page(read);
    for (const task of items) {
      const id = scan.match(task);
      if (id) return id;
    }
    if (last || items.length === 0) return null;
    if (listedPast(items.map((t) => scan.createdAtMs(t)), scan.notBefore)) return null;
    read += items.length;
  }
  throw new ProviderError('server', `submission not among the newest ${scan.budget} ${scan.what}; its outcome is unknown`, { retryable: false });
}
