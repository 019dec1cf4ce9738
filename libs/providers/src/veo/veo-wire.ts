/** Gemini API long-running operation shapes for Veo (providers.md §5). */
export interface GoogleRpcStatus {
  code?: number;
  message?: string;
  status?: string;
  details?: unknown[];
}

export interface VeoGeneratedSample {
  video?: { uri?: string; encodedVideo?: string; encoding?: string; mimeType?: string };
}

export interface VeoOperation {
  name: string;
  done?: boolean;
  metadata?: Record<string, unknown>;
  error?: GoogleRpcStatus;
  response?: {
    '@type'?: string;
    generateVideoResponse?: {
      generatedSamples?: VeoGeneratedSample[];
      raiMediaFilteredCount?: number;
      raiMediaFilteredReasons?: string[];
    };
  };
}

export interface GoogleErrorBody {
  error?: GoogleRpcStatus;
}

/** Numeric gRPC codes used inside `operation.error.code`. */
export const GRPC = {
  CANCELLED: 1,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;
