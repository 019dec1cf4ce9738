/** Kling (Kuaishou) video API shapes (providers.md §8). Every answer is an envelope; `code` 0 is success. */
export interface KlingEnvelope<T> {
  code?: number;
  message?: string;
  request_id?: string;
  data?: T;
}

export interface KlingTask {
  task_id?: string;
  task_status?: 'submitted' | 'processing' | 'succeed' | 'failed' | string;
  task_status_msg?: string;
  task_info?: { external_task_id?: string };
  task_result?: { videos?: { id?: string; url?: string; watermark_url?: string; duration?: string }[] };
  created_at?: number;
  updated_at?: number;
}
