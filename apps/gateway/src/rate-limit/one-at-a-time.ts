import { ApiException } from '../errors/api-exception';

/**
 * One call at a time per user in this process for a route that fans out work (sends to a third
 * party, many commands): a second call while the first runs is refused with 429 and `refusal`.
 */
export class OneAtATimePerUser {
  private readonly busy = new Set<string>();

  constructor(private readonly refusal: string) {}

  async run<T>(userId: string, work: () => Promise<T>): Promise<T> {
    if (this.busy.has(userId)) throw new ApiException('rate_limited', this.refusal, { headers: { 'Retry-After': '5' } });
    this.busy.add(userId);
    try {
      return await work();
    } finally {
      this.busy.delete(userId);
    }
  }
}
