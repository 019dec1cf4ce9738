/** Replicate prediction shapes (providers.md §6). */
export type ReplicateStatus = 'starting' | 'processing' | 'succeeded' | 'failed' | 'canceled' | 'aborted';

export interface ReplicatePrediction {
  id: string;
  model?: string;
  version?: string;
  status: ReplicateStatus | string;
  input?: Record<string, unknown>;
  output?: unknown;
  error?: unknown;
  logs?: string | null;
  data_removed?: boolean;
  created_at?: string;
  started_at?: string | null;
  completed_at?: string | null;
  /** When a `Cancel-After` header was sent: the time past which Replicate stops the prediction. */
  deadline?: string | null;
  urls?: { get?: string; cancel?: string; stream?: string; web?: string };
  metrics?: Record<string, number>;
}

export interface ReplicateErrorBody {
  detail?: string;
  title?: string;
  status?: number;
  invalid_fields?: { type?: string; field?: string; description?: string }[];
}
