/** Luma Dream Machine generation shapes (providers.md §4). All fields optional in the SDK type. */
export interface LumaGeneration {
  id?: string;
  generation_type?: string;
  state?: 'queued' | 'dreaming' | 'completed' | 'failed' | string;
  failure_reason?: string | null;
  created_at?: string;
  assets?: { video?: string | null; image?: string | null; progress_video?: string | null } | null;
  model?: string;
  request?: { callback_url?: string | null; [k: string]: unknown } | null;
}

export interface LumaErrorBody {
  detail?: unknown;
}

/** GET /generations: newest first, paged with `limit` and `offset`. */
export interface LumaGenerationList {
  generations?: LumaGeneration[];
  count?: number;
  has_more?: boolean;
}
