import { randomBytes, randomUUID } from 'node:crypto';
import { CallbackSender } from './callbacks';
import type { Scenario } from './scenario';
import type { SimOptions } from './sim-options';
import { isTerminalPhase, phaseAt, type SimPhase, type SimTask } from './sim-task';

export interface SubmissionRecord {
  provider: string;
  taskId: string | null;
  submissionKey: string | null;
  /** Provider-side correlation fields seen in the body (metadata, safety_identifier, callback URL...). */
  metadata: Record<string, unknown>;
  model: string;
  prompt: string;
  outcome: 'accepted' | 'rejected';
  httpStatus: number;
  at: string;
}

export interface ProviderStats {
  submissions: number;
  accepted: number;
  rejectedAtCapacity: number;
  /** Accepted over the concurrency limit and held THROTTLED (providers that queue instead of refusing). */
  throttledAtCapacity: number;
  checks: number;
  /** Task list reads (providers whose API lists tasks: reelay looks a submit up by its key there). */
  lists: number;
  inFlight: number;
  maxInFlight: number;
}

/** Why a submit must fail before a task exists; each provider renders it in its own wire format. */
export type SubmitRejection =
  | ({ kind: 'capacity' } & RetryAfter)
  | ({ kind: 'rate_limit' } & RetryAfter)
  | { kind: 'server'; status: number }
  | { kind: 'reject'; status: number; code?: string }
  | { kind: 'moderation' };

export type CheckRejection = ({ kind: 'rate_limit' } & RetryAfter) | { kind: 'server'; status: number };

/** When a 429 says to retry; `given`: the scenario set it (`retry_after=N`), rather than the default 1 s. */
export interface RetryAfter {
  retryAfterSeconds: number;
  retryAfterGiven: boolean;
}

const retryAfterOf = (scenario: { retry_after?: number }): RetryAfter => ({ retryAfterSeconds: scenario.retry_after ?? 1, retryAfterGiven: scenario.retry_after !== undefined });

/**
 * The Retry-After header of a provider that does not document one: sent only when the scenario
 * asks for it, so that by default clients are tested against what the provider is known to send.
 */
export const undocumentedRetryAfter = (gate: RetryAfter): Record<string, string> => (gate.retryAfterGiven ? { 'retry-after': String(gate.retryAfterSeconds) } : {});

/** Called on every phase change (and on stale replays) so providers can push callbacks. */
export type TransitionListener = (task: SimTask, previous: SimPhase) => void;

export interface NewTask {
  id?: string;
  model: string;
  prompt: string;
  scenario: Scenario;
  submissionKey?: string;
  callbackUrl?: string;
  request: Record<string, unknown>;
  /** Advance on a timer even without checks (providers that push webhooks). */
  autoAdvance?: boolean;
}

/**
 * Shared simulator state: tasks of every provider, the submission log, capacity accounting,
 * per-key attempt counters for `rate_limit=N`/`server_error=N`, output files and callbacks.
 */
export class SimContext {
  readonly tasks = new Map<string, SimTask>();
  readonly submissions: SubmissionRecord[] = [];
  readonly callbacks = new CallbackSender();
  private readonly stats = new Map<string, ProviderStats>();
  private readonly attempts = new Map<string, number>();
  private readonly listeners = new Map<string, TransitionListener>();
  private readonly autoTasks = new Set<SimTask>();
  private readonly queuing = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  /** Base URL of this server as providers' clients see it (set at listen). */
  publicUrl = 'http://127.0.0.1:4010';

  constructor(readonly options: SimOptions) {}

  /** Over its concurrency limit `provider` accepts a task and holds it THROTTLED until a place frees (Runway), instead of refusing the submit. */
  queueAtCapacity(provider: string): void {
    this.queuing.add(provider);
  }

  onTransition(provider: string, listener: TransitionListener): void {
    this.listeners.set(provider, listener);
  }

  statsFor(provider: string): ProviderStats {
    let s = this.stats.get(provider);
    if (!s) {
      s = { submissions: 0, accepted: 0, rejectedAtCapacity: 0, throttledAtCapacity: 0, checks: 0, lists: 0, inFlight: 0, maxInFlight: 0 };
      this.stats.set(provider, s);
    }
    return s;
  }

  allStats(): Record<string, ProviderStats> {
    for (const provider of this.stats.keys()) this.statsFor(provider).inFlight = this.inFlight(provider);
    return Object.fromEntries(this.stats);
  }

  /**
   * Decides whether a submit fails before a task exists. Counts attempts per (provider, key) so
   * `rate_limit=N` rejects exactly the first N attempts of that submission. A provider that queues
   * at capacity (`queueAtCapacity`) is not refused for it.
   */
  gateSubmit(provider: string, scenario: Scenario, key: string): SubmitRejection | null {
    const stats = this.statsFor(provider);
    stats.submissions++;
    const attempt = this.bump(`submit:${provider}:${key}`);
    if (scenario.reject) {
      const [status, code] = scenario.reject.split(':');
      return { kind: 'reject', status: Number(status) || 400, ...(code ? { code } : {}) };
    }
    if (scenario.moderation_submit) return { kind: 'moderation' };
    if (scenario.rate_limit !== undefined && attempt <= scenario.rate_limit) {
      return { kind: 'rate_limit', ...retryAfterOf(scenario) };
    }
    if (scenario.server_error !== undefined && attempt <= scenario.server_error) {
      return { kind: 'server', status: scenario.server_status ?? 500 };
    }
    const max = this.maxInFlight(provider);
    if (!this.queuing.has(provider) && max !== undefined && this.inFlight(provider) >= max) {
      stats.rejectedAtCapacity++;
      return { kind: 'capacity', ...retryAfterOf(scenario) };
    }
    return null;
  }

  gateCheck(task: SimTask): CheckRejection | null {
    const attempt = this.bump(`check:${task.provider}:${task.id}`);
    const sc = task.scenario;
    if (sc.check_rate_limit !== undefined && attempt <= sc.check_rate_limit) return { kind: 'rate_limit', ...retryAfterOf(sc) };
    if (sc.check_server_error !== undefined && attempt <= sc.check_server_error) return { kind: 'server', status: sc.server_status ?? 500 };
    return null;
  }

  record(rec: Omit<SubmissionRecord, 'at'>): void {
    this.submissions.push({ ...rec, at: new Date().toISOString() });
  }

  createTask(provider: string, init: NewTask): SimTask {
    const now = Date.now();
    const sc = init.scenario;
    const failure =
      sc.moderation_after || sc.fail_code ? { moderation: Boolean(sc.moderation_after), code: sc.fail_code, message: sc.fail_message } : undefined;
    const task: SimTask = {
      provider,
      id: init.id ?? randomUUID(),
      createdAtMs: now,
      updatedAtMs: now,
      scenario: sc,
      checks: 0,
      model: init.model,
      prompt: init.prompt,
      submissionKey: init.submissionKey,
      callbackUrl: init.callbackUrl,
      request: init.request,
      phase: 'queued',
      progress: 0,
      failure,
      outputToken: sc.no_output ? undefined : randomBytes(12).toString('hex'),
      extra: {},
    };
    const stats = this.statsFor(provider);
    const max = this.maxInFlight(provider);
    if (this.queuing.has(provider) && max !== undefined && this.started(provider) >= max) {
      task.waitingForCapacity = true;
      stats.throttledAtCapacity++;
    }
    task.phase = task.waitingForCapacity ? 'throttled' : phaseAt(task, 0, this.options.successAfter).phase;
    this.tasks.set(key(provider, task.id), task);
    stats.accepted++;
    stats.maxInFlight = Math.max(stats.maxInFlight, this.inFlight(provider));
    if (init.autoAdvance || init.callbackUrl) {
      this.autoTasks.add(task);
      this.ensureTimer();
    }
    // Announce the initial state (Ark posts `queued` too).
    queueMicrotask(() => this.listeners.get(provider)?.(task, task.phase));
    return task;
  }

  /**
   * Many tasks at once for load set-ups (benchmarks): no submission records, and the in-flight
   * statistic is computed once for the batch instead of once per task.
   */
  createTasks(provider: string, count: number, init: Omit<NewTask, 'id' | 'callbackUrl' | 'autoAdvance'>): SimTask[] {
    const now = Date.now();
    const out: SimTask[] = [];
    for (let i = 0; i < count; i++) {
      const task: SimTask = {
        provider, id: randomUUID(), createdAtMs: now, updatedAtMs: now, scenario: init.scenario, checks: 0, model: init.model,
        prompt: init.prompt, submissionKey: init.submissionKey, request: init.request, phase: 'queued', progress: 0,
        outputToken: init.scenario.no_output ? undefined : randomBytes(12).toString('hex'), extra: {},
      };
      task.phase = phaseAt(task, 0, this.options.successAfter).phase;
      this.tasks.set(key(provider, task.id), task);
      out.push(task);
    }
    const stats = this.statsFor(provider);
    stats.accepted += count;
    stats.maxInFlight = Math.max(stats.maxInFlight, this.inFlight(provider));
    return out;
  }

  getTask(provider: string, id: string): SimTask | undefined {
    return this.tasks.get(key(provider, id));
  }

  /** Advances a task: one step per check in `checks` mode, by elapsed time in `wall` mode. */
  observe(task: SimTask, asCheck: boolean): SimTask {
    if (asCheck) this.statsFor(task.provider).checks++;
    if (isTerminalPhase(task.phase)) return task;
    if (asCheck && this.options.clock === 'checks') task.checks++;
    if (task.waitingForCapacity) {
      if (this.started(task.provider) >= (this.maxInFlight(task.provider) ?? Infinity)) return task;
      task.waitingForCapacity = false;
      task.startedAtMs = Date.now();
      task.checksBeforeStart = task.checks;
    }
    const steps =
      this.options.clock === 'wall'
        ? Math.floor((Date.now() - (task.startedAtMs ?? task.createdAtMs)) / this.options.tickMs)
        : task.checks - (task.checksBeforeStart ?? 0);
    this.moveTo(task, phaseAt(task, steps, this.options.successAfter));
    return task;
  }

  cancel(task: SimTask): void {
    if (isTerminalPhase(task.phase)) return;
    this.moveTo(task, { phase: 'canceled', progress: task.progress });
  }

  /** Output URL for a finished task; each call issues a fresh expiry (providers that re-sign on read). */
  outputUrl(task: SimTask, issuedAtMs: number = Date.now()): string | null {
    if (!task.outputToken) return null;
    const ttl = task.scenario.expire_output ?? this.options.outputTtlMs;
    return `${this.publicUrl}/_sim/files/${task.outputToken}.mp4?exp=${issuedAtMs + ttl}`;
  }

  taskByOutputToken(token: string): SimTask | undefined {
    for (const t of this.tasks.values()) if (t.outputToken === token) return t;
    return undefined;
  }

  inFlight(provider: string): number {
    let n = 0;
    for (const t of this.tasks.values()) {
      if (t.provider !== provider || t.deleted) continue;
      if (this.options.clock === 'wall') this.observe(t, false);
      if (!isTerminalPhase(t.phase)) n++;
    }
    return n;
  }

  /** Tasks that hold one of the provider's concurrency places: unfinished and not waiting for one. */
  private started(provider: string): number {
    let n = 0;
    for (const t of this.tasks.values()) {
      if (t.provider !== provider || t.deleted || t.waitingForCapacity) continue;
      // By time, a task nobody checks ends all the same (observe does not count places for a started task).
      if (this.options.clock === 'wall') this.observe(t, false);
      if (!isTerminalPhase(t.phase)) n++;
    }
    return n;
  }

  reset(): void {
    this.tasks.clear();
    this.submissions.length = 0;
    this.stats.clear();
    this.attempts.clear();
    this.autoTasks.clear();
    this.callbacks.reset();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.callbacks.close();
  }

  private moveTo(task: SimTask, next: { phase: SimPhase; progress: number }): void {
    const previous = task.phase;
    task.progress = next.progress;
    if (next.phase === previous) return;
    task.phase = next.phase;
    task.updatedAtMs = Date.now();
    if (isTerminalPhase(next.phase)) {
      task.completedAtMs = task.updatedAtMs;
      this.autoTasks.delete(task);
    }
    this.listeners.get(task.provider)?.(task, previous);
  }

  private ensureTimer(): void {
    if (this.timer) return;
    const tick = this.options.clock === 'wall' ? Math.min(this.options.tickMs, 250) : this.options.callbackTickMs;
    this.timer = setInterval(() => {
      for (const t of [...this.autoTasks]) {
        if (t.deleted || isTerminalPhase(t.phase)) {
          this.autoTasks.delete(t);
          continue;
        }
        if (this.options.clock === 'checks') t.checks++;
        this.observe(t, false);
      }
      if (this.autoTasks.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    }, tick);
    this.timer.unref();
  }

  private maxInFlight(provider: string): number | undefined {
    const m = this.options.maxInFlight;
    if (m === undefined) return undefined;
    return typeof m === 'number' ? m : m[provider];
  }

  private bump(k: string): number {
    const n = (this.attempts.get(k) ?? 0) + 1;
    this.attempts.set(k, n);
    return n;
  }
}

function key(provider: string, id: string): string {
  return `${provider}:${id}`;
}
