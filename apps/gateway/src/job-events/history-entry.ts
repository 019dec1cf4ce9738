import type { JobErrorCode, JobStatus, RecordedEvent } from '@reelay/contracts';
import { jobDecider, jobMessage, toJobEvent, type JobState } from '@reelay/job-domain';

export interface HistoryEntry {
  sequence: number;
  type: string;
  at: string;
  status: JobStatus;
  message: string;
  errorCode: JobErrorCode | null;
  progress: number | null;
  [field: string]: unknown;
}

/**
 * Event data fields clients may see. Everything else stays internal: operator `detail`, provider
 * task ids, submission keys, request hashes, user ids and the raw failure message (the entry's
 * `message` is the user-facing text instead).
 */
const PUBLIC_FIELDS = ['provider', 'progress', 'output', 'attempt', 'retryAt', 'reason', 'model', 'durationSeconds', 'aspectRatio', 'resolution'] as const;

/** The job's history: one entry per event, with the status and message the job had after it. */
export function toHistory(events: RecordedEvent[]): HistoryEntry[] {
  let state: JobState = jobDecider.initialState();
  return events.map((recorded) => {
    const event = toJobEvent(recorded);
    state = jobDecider.evolve(state, event);
    const data = event.data as Record<string, unknown>;
    const visible = Object.fromEntries(PUBLIC_FIELDS.filter((f) => data[f] !== undefined).map((f) => [f, data[f]]));
    return {
      ...visible,
      sequence: recorded.streamVersion,
      type: recorded.type,
      at: typeof data.at === 'string' ? data.at : recorded.recordedAt,
      status: state.status,
      message: jobMessage(state),
      errorCode: state.status === 'failed' ? state.errorCode : null,
      progress: state.progress,
    };
  });
}
