import type { DispatchJobDeps } from './dispatch-when-job-validated/dispatch-job.deps';

export const DISPATCH_DEPS = Symbol('DISPATCH_DEPS');

export type DispatchDeps = DispatchJobDeps;
