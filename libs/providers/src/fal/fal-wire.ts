/** fal queue shapes (providers.md §7). */
export type FalQueueStatus = 'IN_QUEUE' | 'IN_PROGRESS' | 'COMPLETED';

export interface FalSubmitResponse {
  request_id: string;
  status?: FalQueueStatus;
  response_url?: string;
  status_url?: string;
  cancel_url?: string;
  queue_position?: number;
  gateway_request_id?: string;
}

export interface FalStatusResponse {
  status: FalQueueStatus | string;
  request_id?: string;
  queue_position?: number;
  logs?: { message: string; level?: string; source?: string; timestamp?: string }[] | null;
  metrics?: { inference_time?: number | null };
  error?: string;
  error_type?: string;
}

export interface FalValidationItem {
  loc?: (string | number)[];
  msg?: string;
  type?: string;
  url?: string;
  ctx?: Record<string, unknown>;
}

export interface FalErrorBody {
  detail?: string | FalValidationItem[];
  error_type?: string;
}

export interface FalWebhookBody {
  request_id?: string;
  gateway_request_id?: string;
  status?: 'OK' | 'ERROR' | string;
  payload?: unknown;
  error?: string;
}

export interface FalCancelResponse {
  status?: 'OK' | 'CANCELLATION_REQUESTED' | 'ALREADY_COMPLETED' | 'NOT_FOUND' | string;
}
