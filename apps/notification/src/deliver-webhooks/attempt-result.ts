/** How one HTTP attempt ended; `error` is operator-facing and never holds secrets or response bodies. */
export interface AttemptResult {
  outcome: 'delivered' | 'http_error' | 'timeout' | 'network_error' | 'refused';
  httpStatus: number | null;
  error: string | null;
  durationMs: number;
  /** Retrying cannot help (the address is refused by the SSRF guard): give up at once. */
  permanent: boolean;
  /** Nothing left reelay (its own fault: a secrets read, a late turn): not an attempt of the receiver's, so none is counted. */
  notSent?: true;
}
