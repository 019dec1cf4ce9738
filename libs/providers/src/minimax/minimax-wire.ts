/** MiniMax (Hailuo) video generation shapes (providers.md §8). Every answer carries `base_resp`. */
export interface MinimaxBaseResp {
  status_code?: number;
  status_msg?: string;
}

export interface MinimaxCreateResponse {
  task_id?: string;
  base_resp?: MinimaxBaseResp;
}

export interface MinimaxQueryResponse {
  task_id?: string;
  status?: 'Preparing' | 'Queueing' | 'Processing' | 'Success' | 'Fail' | string;
  file_id?: string | number;
  video_width?: number;
  video_height?: number;
  base_resp?: MinimaxBaseResp;
}

export interface MinimaxFileResponse {
  file?: { file_id?: string | number; bytes?: number; created_at?: number; filename?: string; purpose?: string; download_url?: string };
  base_resp?: MinimaxBaseResp;
}
