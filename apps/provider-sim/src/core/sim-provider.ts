import type { SimReply, SimRouter, SimRequest } from './router';
import type { SimContext } from './sim-context';
import { parseScenario, type Scenario } from './scenario';

/** One emulated provider API: mounts its routes under `prefix` on the shared router. */
export interface SimProvider {
  name: string;
  /** Path prefix, e.g. `/seedance/api/v3`. */
  prefix: string;
  register(router: SimRouter, ctx: SimContext): void;
}

/** Scenario from the prompt tags and the `x-sim-scenario` header. */
export function scenarioOf(req: SimRequest, prompt: string | undefined): Scenario {
  return parseScenario(prompt, req.header('x-sim-scenario'));
}

/** reelay's submission key header (sent by every reelay adapter), when present. */
export function submissionKeyOf(req: SimRequest): string | undefined {
  return req.header('x-reelay-submission-key') || undefined;
}

export function bearerToken(req: SimRequest): string | undefined {
  const auth = req.header('authorization') ?? '';
  const m = /^Bearer\s+(.+)$/i.exec(auth);
  return m?.[1];
}

export function delay(ms: number | undefined): Promise<void> {
  return ms && ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}

/** What a submit answered with an error: recorded (no task) for tests and stats, then sent. */
export function submitRejecter(
  ctx: SimContext,
  provider: string,
  req: SimRequest,
  submit: { model: string; prompt: string; metadata?: Record<string, unknown> },
): (reply: SimReply) => SimReply {
  return (reply) => {
    ctx.record({ provider, taskId: null, submissionKey: submissionKeyOf(req) ?? null, metadata: submit.metadata ?? {}, model: submit.model, prompt: submit.prompt, outcome: 'rejected', httpStatus: reply.status });
    return reply;
  };
}
