import type { Job, JobStatus, RecordedEvent } from '@reelay/contracts';
import { jobCancellation, jobDecider, toJobEvent, toPublicJob, type JobState } from '@reelay/job-domain';

export interface StatusChange {
  version: number;
  status: JobStatus;
  job: Job;
  /** When the event that made this change was recorded. */
  at: string;
}

/** A job folded up to `version`, with what the next fold step needs to know about its past. */
export interface JobSnapshot {
  state: JobState;
  version: number;
  /** The latest status change at or before `version`. */
  lastChange: Pick<StatusChange, 'status' | 'at'> | null;
}

/** What a webhook tells: a status change, the deletion of a succeeded job's video, or a canceled job's cancellation changing (the status stays). */
export interface JobNotice {
  version: number;
  /** `video.job.<status>`, `video.job.output_deleted` or `video.job.cancellation_updated`. */
  type: string;
  job: Job;
  /** When the event that made it was recorded. */
  at: string;
}

export interface JobHistory {
  /** State just before the event at `version`, and right after it. */
  before: JobState;
  after: JobState;
  version: number;
  /** Every status change after the snapshot folded from (the job's creation as `queued` included) up to `version`, oldest first. */
  statusChanges: StatusChange[];
  /** What webhooks tell after the snapshot folded from up to `version`, oldest first: every status change, output deletion and cancellation update. */
  notices: JobNotice[];
  /** The latest status change at or before the snapshot folded from. */
  priorChange: JobSnapshot['lastChange'];
}

export const emptyJobSnapshot = (): JobSnapshot => ({ state: jobDecider.initialState(), version: 0, lastChange: null });

/**
 * Folds a job stream's events after `from` up to `upTo` (inclusive) with the job decider's evolve.
 * Events at or before `from.version` are skipped, so `events` may be the whole stream or its tail.
 */
export function foldJobHistory(events: readonly RecordedEvent[], upTo: number, from: JobSnapshot = emptyJobSnapshot()): JobHistory {
  let before = from.state;
  let after = before;
  let version = from.version;
  const statusChanges: StatusChange[] = [];
  const notices: JobNotice[] = [];
  for (const e of events) {
    if (e.streamVersion <= from.version) continue;
    if (e.streamVersion > upTo) break;
    if (e.streamVersion !== version + 1) throw new Error(`job stream ${e.streamId} skips from version ${version} to ${e.streamVersion}`);
    before = after;
    after = jobDecider.evolve(before, toJobEvent(e));
    version = e.streamVersion;
    if (statusChanged(before, after)) {
      const job = toPublicJob(after);
      statusChanges.push({ version, status: after.status, job, at: e.recordedAt });
      notices.push({ version, type: `video.job.${after.status}`, job, at: e.recordedAt });
    } else if (outputDeleted(before, after)) {
      notices.push({ version, type: 'video.job.output_deleted', job: toPublicJob(after), at: e.recordedAt });
    } else if (cancellationUpdated(before, after)) {
      notices.push({ version, type: 'video.job.cancellation_updated', job: toPublicJob(after), at: e.recordedAt });
    }
  }
  return { before, after, version, statusChanges, notices, priorChange: from.lastChange };
}

export function snapshotOf(history: JobHistory): JobSnapshot {
  const last = history.statusChanges.at(-1);
  return { state: history.after, version: history.version, lastChange: last ? { status: last.status, at: last.at } : history.priorChange };
}

export const statusChanged = (before: JobState, after: JobState) => after.exists && (!before.exists || before.status !== after.status);

const outputDeleted = (before: JobState, after: JobState) => after.exists && before.outputDeletedAt !== after.outputDeletedAt;

/** A canceled job's public cancellation changed after the cancel itself (its task stopped or ended, or was found). */
const cancellationUpdated = (before: JobState, after: JobState) =>
  before.status === 'canceled' && after.status === 'canceled' && jobCancellation(before)?.providerTask !== jobCancellation(after)?.providerTask;

/** What connected clients see change: the status (and so the message), the progress, the output's deletion, or a canceled job's provider task. */
export const visibleChange = (before: JobState, after: JobState) =>
  statusChanged(before, after) || outputDeleted(before, after) || (after.exists && before.progress !== after.progress) || cancellationChanged(before, after);

const cancellationChanged = (before: JobState, after: JobState) =>
  after.status === 'canceled' && (before.providerTaskOpen !== after.providerTaskOpen || before.providerTaskEnd !== after.providerTaskEnd);
