import type { Logger } from '@reelay/service-kit';

/**
 * Providers whose status checks this replica holds back after one of them was answered 429. The
 * provider's rate limit is per account, not per task: without the pause, every other due job of
 * that provider would be asked at once and refused too, each refusal counting against the limit
 * and pushing its Retry-After further out. Their rows stay due (the claims skip the provider), so
 * nothing is lost and each is checked once the wait is over. Each replica learns on its own 429;
 * a restart forgets the pause, which costs at most one more refused check.
 */
export class ProviderPauses {
  private readonly until = new Map<string, number>();

  constructor(
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly clock: () => number = Date.now,
  ) {}

  /** A check of `provider` was answered 429: its checks wait `waitMs` (a later pause is never shortened). */
  rateLimited(provider: string, waitMs: number): void {
    const now = this.clock();
    const current = this.until.get(provider) ?? 0;
    if (now + waitMs <= current) return;
    this.until.set(provider, now + waitMs);
    if (current <= now) this.logger.warn({ provider, waitMs }, 'provider is rate-limiting status checks: its checks wait before the next one');
  }

  /** The providers whose checks wait now. */
  paused(): string[] {
    const now = this.clock();
    const paused: string[] = [];
    for (const [provider, until] of this.until) {
      if (until > now) paused.push(provider);
      else this.until.delete(provider);
    }
    return paused;
  }
}
