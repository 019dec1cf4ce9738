import type { SimContext, TransitionListener } from './sim-context';
import { isTerminalPhase, type SimPhase, type SimTask } from './sim-task';

export interface StatusCallbackSpec {
  provider: string;
  /** Where to post for this task (its callback URL, or a project-level webhook URL). */
  url(task: SimTask): string | undefined;
  /** Phases (as seen by the client) that trigger a post. */
  phases: readonly SimPhase[];
  /** The body as the provider would send it, rendered as if the task were in `phase`. */
  render(task: SimTask, phase: SimPhase): unknown;
  /** Signing headers for the exact body string (Standard Webhooks etc.); none for unsigned providers. */
  sign?(body: string, task: SimTask): Record<string, string>;
  /** Which receiver answers end the retries, when the provider documents less than any 2xx. */
  acknowledged?(httpStatus: number): boolean;
}

/**
 * A transition listener that posts status callbacks, plus the scenario's delivery faults:
 * `callback_duplicate` re-sends the terminal callback, `callback_late=N` sends a stale
 * `running` callback N ms after the terminal one.
 */
export function statusCallbacks(ctx: SimContext, spec: StatusCallbackSpec): TransitionListener {
  return (task) => {
    const url = spec.url(task);
    if (!url || task.deleted || !spec.phases.includes(task.phase)) return;
    const post = (phase: SimPhase, kind: 'status' | 'duplicate' | 'late', delayMs = 0): void => {
      const body = JSON.stringify(spec.render(task, phase));
      ctx.callbacks.send({ provider: spec.provider, taskId: task.id, url, kind, phase }, body, spec.sign?.(body, task) ?? {}, delayMs, spec.acknowledged);
    };
    post(task.phase, 'status');
    if (!isTerminalPhase(task.phase)) return;
    if (task.scenario.callback_duplicate) post(task.phase, 'duplicate', 20);
    if (task.scenario.callback_late !== undefined) post('running', 'late', task.scenario.callback_late);
  };
}
