import type { DataSource } from 'typeorm';

export type SubmitToken = { taken: true } | { taken: false; waitMs: number };

/**
 * The token bucket that keeps a provider's submits within `perMinute` over any minute: a burst of a
 * tenth of it (at least one), refilled at the rest per minute, so burst + refill never pass the cap.
 */
export function bucketFor(perMinute: number): { burst: number; perSecond: number } {
  const burst = Math.max(1, Math.floor(perMinute / 10));
  return { burst, perSecond: Math.max(perMinute - burst, 1) / 60 };
}

/**
 * Submits per minute per provider account (PROVIDER_MAX_SUBMITS_PER_MINUTE_<PROVIDER>), over every
 * dispatch replica, so a burst of jobs does not run into the provider's request limit and its 429s.
 * A provider without a cap costs nothing here (no statement).
 */
export class SubmitBudgets {
  constructor(
    private readonly dataSource: DataSource,
    private readonly perMinuteFor: (provider: string) => number,
  ) {}

  async take(provider: string): Promise<SubmitToken> {
    const perMinute = this.perMinuteFor(provider);
    if (perMinute <= 0) return { taken: true };
    const { burst, perSecond } = bucketFor(perMinute);
    const [row]: { taken: boolean; wait_ms: number }[] = await this.dataSource.query(`SELECT taken, wait_ms FROM reelay_take_submit_token($1, $2, $3)`, [provider, burst, perSecond]);
    return row!.taken ? { taken: true } : { taken: false, waitMs: row!.wait_ms };
  }
}
