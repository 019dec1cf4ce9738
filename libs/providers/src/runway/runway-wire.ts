/** Runway task shapes (providers.md §3). */
export interface RunwayTask {
  id: string;
  createdAt?: string;
  status: 'PENDING' | 'THROTTLED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | string;
  progress?: number;
  output?: string[];
  failure?: string;
  failureCode?: string;
}

export interface RunwayErrorBody {
  error?: string;
  issues?: unknown;
}

export const RUNWAY_API_VERSION = '2024-11-06';
