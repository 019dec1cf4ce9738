import { CreateEventLog1764300000000 } from './1764300000000-create-event-log';
import { CreateJobView1764300000001 } from './1764300000001-create-job-view';
import { CreateAppendFunction1764300000002 } from './1764300000002-create-append-function';
import { CreateAppendGroupsFunction1764300000003 } from './1764300000003-create-append-groups-function';
import { AppendPlansByKey1764300000004 } from './1764300000004-append-plans-by-key';
import { AppendGroupsInOnePass1764300000005 } from './1764300000005-append-groups-in-one-pass';
import { CreateStreamSnapshots1764300000006 } from './1764300000006-create-stream-snapshots';
import { JobViewDurationsIndex1764300000007 } from './1764300000007-job-view-durations-index';
import { JobViewWaitingIndex1764300000008 } from './1764300000008-job-view-waiting-index';
import { JobViewParentIndex1764300000009 } from './1764300000009-job-view-parent-index';
import { OneOpenDeadLetterPerEvent1764300000010 } from './1764300000010-one-open-dead-letter-per-event';
import { DeadLetterReplayToken1764300000011 } from './1764300000011-dead-letter-replay-token';

export { CreateEventLog1764300000000, CreateJobView1764300000001, CreateAppendFunction1764300000002, CreateAppendGroupsFunction1764300000003, AppendPlansByKey1764300000004, AppendGroupsInOnePass1764300000005, CreateStreamSnapshots1764300000006, JobViewDurationsIndex1764300000007, JobViewWaitingIndex1764300000008, JobViewParentIndex1764300000009, OneOpenDeadLetterPerEvent1764300000010, DeadLetterReplayToken1764300000011 };

/** Every migration of the event store, in order. */
export const EVENT_STORE_MIGRATIONS = [CreateEventLog1764300000000, CreateJobView1764300000001, CreateAppendFunction1764300000002, CreateAppendGroupsFunction1764300000003, AppendPlansByKey1764300000004, AppendGroupsInOnePass1764300000005, CreateStreamSnapshots1764300000006, JobViewDurationsIndex1764300000007, JobViewWaitingIndex1764300000008, JobViewParentIndex1764300000009, OneOpenDeadLetterPerEvent1764300000010, DeadLetterReplayToken1764300000011];
