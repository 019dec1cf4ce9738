import { CreatePollSchedule1764300400000 } from './1764300400000-create-poll-schedule';
import { PollScheduleProgress1764300400001 } from './1764300400001-poll-schedule-progress';
import { PollScheduleDraining1764300400002 } from './1764300400002-poll-schedule-draining';
import { PollScheduleCallbackSeen1764300400003 } from './1764300400003-poll-schedule-callback-seen';
import { PollScheduleCancelAt1764300400004 } from './1764300400004-poll-schedule-cancel-at';

/** Tables polling owns, run by connectInfra after the event store's migrations. */
export const POLLING_MIGRATIONS = [CreatePollSchedule1764300400000, PollScheduleProgress1764300400001, PollScheduleDraining1764300400002, PollScheduleCallbackSeen1764300400003, PollScheduleCancelAt1764300400004];
