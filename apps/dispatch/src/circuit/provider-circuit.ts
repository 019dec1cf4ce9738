import type { DataSource } from 'typeorm';
import { returnedRows } from '../shared/sql-rows';

export interface CircuitOptions {
  /** Consecutive server/timeout submit failures that open the circuit. */
  threshold: number;
  /** Failures further apart than this from the first of the run start a new run. */
  windowMs: number;
  /** How long an open circuit refuses before letting one probe through. */
  cooldownMs: number;
}

/**
 * Per-provider circuit breaker in PostgreSQL so every dispatch replica sees the same health.
 * closed → (threshold consecutive failures within the window) → open → (cool-down) → half-open:
 * one replica wins the probe (an atomic UPDATE on `probe_at`), the others keep treating the
 * provider as open; a success closes the circuit, a failure re-opens it for another cool-down.
 * All comparisons use the database clock, so replicas with skewed clocks agree.
 */
export class ProviderCircuit {
  constructor(
    private readonly dataSource: DataSource,
    private readonly opts: CircuitOptions,
  ) {}

  /** True when a new job may be sent to the provider now (closed, or this caller won the half-open probe). */
  async allows(provider: string): Promise<boolean> {
    if (this.opts.threshold <= 0) return true;
    const rows: { opened_at: Date | null }[] = await this.dataSource.query(`SELECT opened_at FROM provider_circuits WHERE provider = $1`, [provider]);
    if (!rows[0]?.opened_at) return true;
    const probe = returnedRows(await this.dataSource.query(
      `UPDATE provider_circuits SET probe_at = now(), updated_at = now()
        WHERE provider = $1 AND opened_at IS NOT NULL
          AND opened_at <= now() - make_interval(secs => $2::double precision / 1000)
          AND (probe_at IS NULL OR probe_at <= now() - make_interval(secs => $2::double precision / 1000))
        RETURNING provider`,
      [provider, this.opts.cooldownMs],
    ));
    return probe.length > 0;
  }

  async isOpen(provider: string): Promise<boolean> {
    const rows: { opened_at: Date | null }[] = await this.dataSource.query(`SELECT opened_at FROM provider_circuits WHERE provider = $1`, [provider]);
    return Boolean(rows[0]?.opened_at);
  }

  async recordSuccess(provider: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE provider_circuits SET consecutive_failures = 0, first_failure_at = NULL, opened_at = NULL, probe_at = NULL, updated_at = now()
        WHERE provider = $1 AND (consecutive_failures > 0 OR opened_at IS NOT NULL)`,
      [provider],
    );
  }

  /** Counts a server/timeout failure; returns true when the circuit is open afterwards. */
  async recordFailure(provider: string): Promise<boolean> {
    const rows: { opened: boolean }[] = await this.dataSource.query(
      `INSERT INTO provider_circuits AS c (provider, consecutive_failures, first_failure_at, opened_at)
       VALUES ($1, 1, now(), CASE WHEN $2::int <= 1 THEN now() END)
       ON CONFLICT (provider) DO UPDATE SET
         consecutive_failures = CASE WHEN c.first_failure_at IS NULL OR c.first_failure_at < now() - make_interval(secs => $3::double precision / 1000)
                                     THEN 1 ELSE c.consecutive_failures + 1 END,
         first_failure_at = CASE WHEN c.first_failure_at IS NULL OR c.first_failure_at < now() - make_interval(secs => $3::double precision / 1000)
                                 THEN now() ELSE c.first_failure_at END,
         opened_at = CASE
           WHEN c.probe_at IS NOT NULL THEN now()  -- a failed half-open probe re-opens at once
           WHEN c.opened_at IS NOT NULL THEN c.opened_at
           WHEN (CASE WHEN c.first_failure_at IS NULL OR c.first_failure_at < now() - make_interval(secs => $3::double precision / 1000)
                      THEN 1 ELSE c.consecutive_failures + 1 END) >= $2::int THEN now()
         END,
         probe_at = NULL,
         updated_at = now()
       RETURNING opened_at IS NOT NULL AS opened`,
      [provider, this.opts.threshold, this.opts.windowMs],
    );
    return Boolean(rows[0]?.opened);
  }
}
