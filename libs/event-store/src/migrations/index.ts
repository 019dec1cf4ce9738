import { CreateEventLog1764300000000 } from './1764300000000-create-event-log';
import { CreateJobView1764300000001 } from './1764300000001-create-job-view';

export { CreateEventLog1764300000000, CreateJobView1764300000001 };

/** Every migration of the event store, in order. */
export const EVENT_STORE_MIGRATIONS = [CreateEventLog1764300000000, CreateJobView1764300000001];
