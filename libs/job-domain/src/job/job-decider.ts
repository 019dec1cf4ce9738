import type { JobEvent } from '@reelay/contracts';
import type { Decider } from '../shared/decider';
import { decideJob } from './decide';
import { evolveJob } from './evolve';
import type { JobCommand } from './job-commands';
import { initialJobState, type JobState } from './job-state';

export const jobDecider: Decider<JobCommand, JobState, JobEvent> = {
  decide: decideJob,
  evolve: evolveJob,
  initialState: initialJobState,
};
