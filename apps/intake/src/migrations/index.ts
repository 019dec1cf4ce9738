import { CreateJobDeadlines1764300600000 } from './1764300600000-create-job-deadlines';

export { CreateJobDeadlines1764300600000 };

/** Intake's own tables, migrated when intake starts (after the event store's). */
export const INTAKE_MIGRATIONS = [CreateJobDeadlines1764300600000];
