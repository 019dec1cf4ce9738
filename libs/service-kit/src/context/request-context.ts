import { AsyncLocalStorage } from 'node:async_hooks';

/** Ids that follow one unit of work (an HTTP request or a message) through logs and spans. */
export interface WorkContext {
  jobId?: string;
  correlationId?: string;
  traceId?: string;
  traceparent?: string;
}

const storage = new AsyncLocalStorage<WorkContext>();

export const currentContext = (): WorkContext => storage.getStore() ?? {};

export function runWithContext<T>(ctx: WorkContext, fn: () => T): T {
  return storage.run({ ...currentContext(), ...ctx }, fn);
}
