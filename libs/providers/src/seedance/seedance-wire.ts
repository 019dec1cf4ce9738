/** Ark content-generation task shapes (providers.md §1). Only the fields reelay reads. */
export interface ArkTask {
  id: string;
  model?: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'expired' | string;
  error?: { code?: string; message?: string } | null;
  content?: { video_url?: string | null; last_frame_url?: string | null } | null;
  safety_identifier?: string | null;
  created_at?: number;
  updated_at?: number;
}

export interface ArkErrorBody {
  error?: { code?: string; message?: string; param?: string; type?: string };
}

export type ArkContentItem =
  | { type: 'text'; text: string }
  | { type: 'image_url'; image_url: { url: string }; role?: 'first_frame' };
