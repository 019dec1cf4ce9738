import { ProviderCallbackCommand } from '@reelay/contracts';
import type { PollingDeps } from '../polling.deps';

export type CallbackReply = { ok: true; ignored?: true };

const IGNORED: CallbackReply = { ok: true, ignored: true };

/**
 * A provider callback forwarded by the gateway. It is never taken as the job's outcome: when the
 * adapter accepts it and it names a task we follow, that task is checked at once; everything else
 * is acknowledged the same way, so the reply says nothing about which tasks exist.
 */
export async function handleProviderCallback(deps: Pick<PollingDeps, 'adapters' | 'schedule' | 'logger'>, payload: unknown): Promise<CallbackReply> {
  const parsed = ProviderCallbackCommand.safeParse(payload);
  if (!parsed.success) return IGNORED;
  const cmd = parsed.data;
  const adapter = deps.adapters.get(cmd.provider);
  if (!adapter?.verifyCallback) return IGNORED;
  const body = cmd.bodyBase64 !== undefined ? Buffer.from(cmd.bodyBase64, 'base64') : Buffer.from(cmd.body ?? '', 'utf8');
  let verified;
  try {
    verified = adapter.verifyCallback(cmd.headers, body, cmd.query);
  } catch (err) {
    deps.logger.warn({ provider: cmd.provider, err: (err as Error).message }, 'callback verification threw');
    return IGNORED;
  }
  if (!verified) return IGNORED;
  const followed = await deps.schedule.requestCheck(cmd.provider, verified.providerTaskId);
  return followed ? { ok: true } : IGNORED;
}
