/** OpenAI Videos (Sora) shapes (providers.md §2). */
export interface OpenAIVideo {
  id: string;
  object?: 'video';
  model?: string;
  status: 'queued' | 'in_progress' | 'completed' | 'failed' | string;
  progress?: number;
  created_at?: number;
  completed_at?: number | null;
  expires_at?: number | null;
  size?: string;
  seconds?: string;
  error?: { code?: string; message?: string } | null;
}

export interface OpenAIErrorBody {
  error?: { message?: string; type?: string; param?: string | null; code?: string | null };
}

export interface OpenAIWebhookEvent {
  id?: string;
  type?: string;
  data?: { id?: string };
}
