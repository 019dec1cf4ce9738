import type { ProviderCallContext, ProviderSubmitResult } from '../adapter/provider-adapter';
import { SUBMISSION_KEY_HEADER } from '../adapter/provider-adapter';
import { unnamedTaskError } from '../adapter/provider-error';
import type { HttpRequest, ProviderHttp } from './provider-http';

export interface CreateTaskCall {
  path: string;
  json: unknown;
  submissionKey: string;
  /** Sent besides the submission key header. */
  headers?: Record<string, string>;
}

/**
 * POSTs a provider's create call with the submission key header, for providers whose answer names
 * the task in `id`. A 2xx without an id is the provider's fault (`server`, with `noIdDetail`), and
 * may have made a task all the same (`maybeDelivered`).
 */
export async function createTask(
  http: ProviderHttp,
  call: CreateTaskCall,
  ctx: ProviderCallContext | undefined,
  noIdDetail: string,
): Promise<ProviderSubmitResult> {
  const req: HttpRequest = {
    method: 'POST',
    path: call.path,
    json: call.json,
    headers: { [SUBMISSION_KEY_HEADER]: call.submissionKey, ...call.headers },
  };
  const res = await http.request<{ id?: string }>(req, ctx);
  if (!res.body?.id) throw unnamedTaskError(noIdDetail);
  return { providerTaskId: res.body.id };
}

