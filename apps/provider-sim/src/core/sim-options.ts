export interface SimOptions {
  /** `checks`: a task advances one step per status check; `wall`: one step per `tickMs`. */
  clock: 'checks' | 'wall';
  tickMs: number;
  /** Steps from submit to terminal when the scenario does not say (`success_after`). */
  successAfter: number;
  /** Max non-terminal tasks per provider (a number for all, or per provider name); over it submits get 429. */
  maxInFlight?: number | Record<string, number>;
  /** How often tasks with callbacks/webhooks advance on their own in `checks` mode. */
  callbackTickMs: number;
  /** Output URL lifetime when the scenario does not say. */
  outputTtlMs: number;
  /** Require auth headers (Bearer etc.) on provider routes. */
  requireAuth: boolean;
  /** Project-level OpenAI webhook target and `whsec_` secret (Standard Webhooks signing). */
  openaiWebhookUrl?: string;
  openaiWebhookSecret?: string;
  /**
   * UNSURE knobs from providers.md: what a GET on a deleted/cancelled task answers.
   * `not_found` (404) or `cancelled` (the record stays, status cancelled).
   */
  deletedTaskRead: 'not_found' | 'cancelled';
}

export const DEFAULT_SIM_OPTIONS: SimOptions = {
  clock: 'checks',
  tickMs: 1000,
  successAfter: 2,
  callbackTickMs: 100,
  outputTtlMs: 3_600_000,
  requireAuth: true,
  deletedTaskRead: 'not_found',
};

export function simOptionsFromEnv(env: Record<string, string | undefined> = process.env): Partial<SimOptions> {
  const out: Partial<SimOptions> = {};
  if (env.SIM_CLOCK === 'wall' || env.SIM_CLOCK === 'checks') out.clock = env.SIM_CLOCK;
  const num = (k: string): number | undefined => (env[k] !== undefined && Number.isFinite(Number(env[k])) ? Number(env[k]) : undefined);
  if (num('SIM_TICK_MS') !== undefined) out.tickMs = num('SIM_TICK_MS');
  if (num('SIM_SUCCESS_AFTER') !== undefined) out.successAfter = num('SIM_SUCCESS_AFTER');
  if (num('SIM_CALLBACK_TICK_MS') !== undefined) out.callbackTickMs = num('SIM_CALLBACK_TICK_MS');
  if (num('SIM_OUTPUT_TTL_MS') !== undefined) out.outputTtlMs = num('SIM_OUTPUT_TTL_MS');
  if (env.SIM_MAX_IN_FLIGHT) {
    // `3` for every provider, or `runway=2,luma=5`.
    const v = env.SIM_MAX_IN_FLIGHT.trim();
    if (/^\d+$/.test(v)) out.maxInFlight = Number(v);
    else out.maxInFlight = Object.fromEntries(v.split(',').map((p) => p.split('=')).map(([k, n]) => [k.trim(), Number(n)]));
  }
  if (env.SIM_REQUIRE_AUTH === 'false') out.requireAuth = false;
  if (env.SIM_OPENAI_WEBHOOK_URL) out.openaiWebhookUrl = env.SIM_OPENAI_WEBHOOK_URL;
  if (env.SIM_OPENAI_WEBHOOK_SECRET) out.openaiWebhookSecret = env.SIM_OPENAI_WEBHOOK_SECRET;
  if (env.SIM_DELETED_TASK_READ === 'cancelled') out.deletedTaskRead = 'cancelled';
  return out;
}
