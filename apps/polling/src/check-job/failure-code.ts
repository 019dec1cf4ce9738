import type { JobErrorCode } from '@reelay/contracts';
import { toJobErrorCode, type NormalizedProviderError } from '@reelay/providers';

/**
 * The job error code for a task the provider ended as failed. The providers lib maps kinds to
 * codes; codes that only describe a job refused before submission (validation_failed,
 * asset_fetch_failed) cannot follow an accepted submission in the job lifecycle, so they become
 * unknown_provider_error, keeping the provider's words in the operator detail.
 */
export function failureCodeAfterAcceptance(error: Pick<NormalizedProviderError, 'kind'>): JobErrorCode {
  const code = toJobErrorCode(error);
  return code === 'validation_failed' || code === 'asset_fetch_failed' ? 'unknown_provider_error' : code;
}

export function operatorDetail(provider: string, error: Pick<NormalizedProviderError, 'kind' | 'providerCode' | 'detail'>): string {
  const text = `${provider} ${error.kind}${error.providerCode ? ` ${error.providerCode}` : ''}: ${error.detail}`;
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}
