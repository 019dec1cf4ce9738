import type { Scenario } from './scenario';

export type SimPhase = 'queued' | 'throttled' | 'running' | 'succeeded' | 'failed' | 'canceled';

export interface SimTask {
  provider: string;
  id: string;
  createdAtMs: number;
  updatedAtMs: number;
  scenario: Scenario;
  /** Status checks seen (plus auto-advance ticks for callback tasks in `checks` mode). */
  checks: number;
  model: string;
  prompt: string;
  submissionKey?: string;
  callbackUrl?: string;
  /** The create body as received (providers echo parts of it). */
  request: Record<string, unknown>;
  phase: SimPhase;
  /** 0..1 */
  progress: number;
  /** Set when the task ends `failed`: `moderation` for moderation_after, else the fail_code. */
  failure?: { moderation: boolean; code?: string; message?: string };
  /** Output file token; absent when the scenario says no_output. */
  outputToken?: string;
  completedAtMs?: number;
  deleted?: boolean;
  /** Accepted over the account's concurrency (Runway): held `throttled` until a running task ends. */
  waitingForCapacity?: boolean;
  /** When a task that waited for capacity started (its steps count from then): time, and checks seen before. */
  startedAtMs?: number;
  checksBeforeStart?: number;
  /** Provider-specific scratch space. */
  extra: Record<string, unknown>;
}

export const TERMINAL_PHASES: readonly SimPhase[] = ['succeeded', 'failed', 'canceled'];

export function isTerminalPhase(p: SimPhase): boolean {
  return TERMINAL_PHASES.includes(p);
}

/**
 * Where a task is after `steps` steps: throttled through step `queue` (so the first `queue`
 * checks see it), then running for
 * `success_after` steps (step 0 without a queue is plain queued), then its terminal outcome.
 */
export function phaseAt(task: SimTask, steps: number, defaultSuccessAfter: number): { phase: SimPhase; progress: number } {
  const sc = task.scenario;
  const queue = Math.max(0, sc.queue ?? 0);
  const n = Math.max(1, sc.success_after ?? defaultSuccessAfter);
  if (queue > 0 && steps <= queue) return { phase: 'throttled', progress: 0 };
  const t = steps - queue;
  if (sc.never_finish) return t === 0 && queue === 0 ? { phase: 'queued', progress: 0 } : { phase: 'running', progress: Math.min(0.95, t / (t + 1)) };
  if (t === 0 && queue === 0) return { phase: 'queued', progress: 0 };
  if (t < n) return { phase: 'running', progress: t / n };
  return { phase: task.failure ? 'failed' : 'succeeded', progress: 1 };
}
