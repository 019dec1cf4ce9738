import type { Job } from '@reelay/contracts';

/**
 * The job as a stream opened with a job token shows it: that stream is read in an end user's
 * browser, from any origin, so it leaves out what is the API client's own plumbing — where its
 * webhooks go (a URL that may carry a token), which of them it takes, its metadata (its own ids)
 * and the credentials a reference image URL may carry in its query (a presigned link).
 */
export function forEndUser(job: Job): Job {
  const { webhookEvents: _events, ...rest } = job;
  return { ...rest, webhookUrl: null, metadata: {}, referenceImage: job.referenceImage && 'url' in job.referenceImage ? { url: withoutCredentials(job.referenceImage.url) } : job.referenceImage };
}

function withoutCredentials(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    u.hash = '';
    return u.toString();
  } catch {
    return '';
  }
}
