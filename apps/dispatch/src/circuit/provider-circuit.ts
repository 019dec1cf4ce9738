import { performance } from 'node:perf_hooks';
import type { DataSource } from 'typeorm';
import { returnedRows } from '@reelay/event-store';
import { isFresh, successChangesNothing, viewOf, type CircuitRow, type CircuitView } from './circuit-view';

export interface CircuitOptions {
  /** Consecutive server/timeout submit failures that open the circuit. */
  threshold: number;
  /** Failures further apart than this from the first of the run start a new run. */
  windowMs: number;
  /** How long an open circuit refuses before letting one probe through. */
  cooldownMs: number;
  /** How long this replica goes by what it last read or wrote before reading the circuit again. */
  viewTtlMs?: number;
}

/**
 * The longest a half-open probe may take from its claim to its outcome: a reference image fetched
 * (up to 30 s), the intent recorded, and the submit (a provider call of up to 60 s with its timeout).
 */
export const PROBE_MAX_MS = 120_000;

/**
 * Per-provider circuit breaker in PostgreSQL so every dispatch replica sees the same health.
 * closed → (threshold consecutive failures within the window) → open → (cool-down) → half-open:
 * one replica wins the probe (an atomic UPDATE on `probe_at`), the others keep treating the
 * provider as open; a success closes the circuit, a failure re-opens it for another cool-down.
 * All comparisons use the database clock, so replicas with skewed clocks agree.
 *
 * Each replica keeps a view of every circuit for at most `viewTtlMs` (1 s by default), so it
 * reads provider_circuits about once a second per provider instead of once per job, and skips
 * writing a success while the circuit is known closed with no failures counted. The cost: a
 * circuit another replica opened is seen up to that long late (a few more jobs meet the failing
 * provider, and their failures are recorded as before), and a failure another replica counted in
 * that time is not reset by this replica's success. The probe stays an atomic claim in the
 * database, and an open view expires when the probe is due, so cool-downs are kept.
 */
export class ProviderCircuit {
  private readonly views = new Map<string, CircuitView>();
  /** Probes this process claimed and has not settled (by an outcome, or by giving them back), by the time claimed. */
  private readonly probes = new Map<string, string>();
  /** One read and one success write per provider at a time: callers arriving meanwhile share it. */
  private readonly reading = new Map<string, Promise<CircuitView>>();
  private readonly clearing = new Map<string, Promise<CircuitView>>();
  private readonly ttlMs: number;

  constructor(
    private readonly dataSource: DataSource,
    private readonly opts: CircuitOptions,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.ttlMs = opts.viewTtlMs ?? 1_000;
  }

  /** True when a new job may be sent to the provider now (closed, or this caller won the half-open probe). */
  async allows(provider: string): Promise<boolean> {
    if (this.opts.threshold <= 0) return true;
    const cached = this.views.get(provider);
    const view = isFresh(cached, this.clock()) ? cached : await this.read(provider);
    if (!view.open) return true;
    if (isFresh(view, this.clock())) return false;
    // A probe still under way (claimed, no outcome yet) holds off the next for as long as a probe may
    // take, not only the cool-down: a second one would send another job to a provider still failing.
    // probe_at as text: a Date would lose its microseconds, and giving the probe back matches on it.
    const probe = returnedRows<{ probe_at: string }>(await this.dataSource.query(
      `UPDATE provider_circuits SET probe_at = now(), updated_at = now()
        WHERE provider = $1 AND opened_at IS NOT NULL
          AND opened_at <= now() - make_interval(secs => $2::double precision / 1000)
          AND (probe_at IS NULL OR probe_at <= now() - make_interval(secs => greatest($2, $3)::double precision / 1000))
        RETURNING probe_at::text`,
      [provider, this.opts.cooldownMs, PROBE_MAX_MS],
    ));
    // Won or lost, the next probe is a cool-down away.
    this.remember(provider, { open: true, failing: true, probeInMs: this.opts.cooldownMs });
    if (probe[0]) this.probes.set(provider, probe[0].probe_at);
    return probe.length > 0;
  }

  /**
   * Gives back the probe this process claimed for the provider when its job will not be sent after
   * all (no slot there, no submit turn, the job failed first): the next job may probe at once, rather
   * than every replica treating the circuit as open for another cool-down. A no-op without a claim.
   */
  async returnProbe(provider: string, claim?: string): Promise<void> {
    const claimedAt = this.probes.get(provider);
    if (!claimedAt || (claim !== undefined && claim !== claimedAt)) return;
    this.probes.delete(provider);
    this.views.delete(provider);
    // A hint like every circuit write: should it fail, the probe comes back after PROBE_MAX_MS.
    await this.dataSource
      .query(`UPDATE provider_circuits SET probe_at = NULL, updated_at = now() WHERE provider = $1 AND probe_at = $2::timestamptz`, [provider, claimedAt])
      .catch(() => undefined);
  }

  /** The probe this process holds for the provider (when it was claimed), if any: read right after `allows`, it tells whether that call claimed it. */
  probeClaim(provider: string): string | undefined {
    return this.probes.get(provider);
  }

  /** Providers whose circuit is open now (or half-open, waiting for its probe), as every replica sees them. */
  async openProviders(): Promise<string[]> {
    const rows: { provider: string }[] = await this.dataSource.query(`SELECT provider FROM provider_circuits WHERE opened_at IS NOT NULL`);
    return rows.map((r) => r.provider);
  }

  async isOpen(provider: string): Promise<boolean> {
    return (await this.read(provider)).open;
  }

  async recordSuccess(provider: string): Promise<void> {
    this.probes.delete(provider);
    if (successChangesNothing(this.views.get(provider), this.clock())) return;
    await shared(this.clearing, provider, async () => {
      const before = this.views.get(provider);
      await this.dataSource.query(
        `UPDATE provider_circuits SET consecutive_failures = 0, first_failure_at = NULL, opened_at = NULL, probe_at = NULL, updated_at = now()
          WHERE provider = $1 AND (consecutive_failures > 0 OR opened_at IS NOT NULL)`,
        [provider],
      );
      return this.rememberUnlessChanged(provider, before, undefined);
    });
  }

  /** Counts a server/timeout failure; returns true when the circuit is open afterwards. */
  async recordFailure(provider: string): Promise<boolean> {
    this.probes.delete(provider);
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
    const opened = Boolean(rows[0]?.opened);
    this.remember(provider, { open: opened, failing: true, probeInMs: this.opts.cooldownMs });
    return opened;
  }

  private read(provider: string): Promise<CircuitView> {
    return shared(this.reading, provider, async () => {
      const before = this.views.get(provider);
      const rows: { open: boolean; failing: boolean; probe_in_ms: number | null }[] = await this.dataSource.query(
        `SELECT opened_at IS NOT NULL AS open, consecutive_failures > 0 AS failing,
                greatest(0, extract(epoch FROM greatest(opened_at + make_interval(secs => $2::double precision / 1000),
                                                        probe_at + make_interval(secs => greatest($2, $3)::double precision / 1000)) - now()) * 1000)::float8 AS probe_in_ms
           FROM provider_circuits WHERE provider = $1`,
        [provider, this.opts.cooldownMs, PROBE_MAX_MS],
      );
      return this.rememberUnlessChanged(provider, before, rows[0] && { open: rows[0].open, failing: rows[0].failing, probeInMs: rows[0].probe_in_ms ?? 0 });
    });
  }

  private remember(provider: string, row: CircuitRow | undefined): CircuitView {
    const view = viewOf(row, this.clock(), this.ttlMs);
    this.views.set(provider, view);
    return view;
  }

  /** A failure or probe recorded while a read or success write was under way is newer: it stays. */
  private rememberUnlessChanged(provider: string, before: CircuitView | undefined, row: CircuitRow | undefined): CircuitView {
    const current = this.views.get(provider);
    return current !== before && current ? current : this.remember(provider, row);
  }
}

function shared<T>(pending: Map<string, Promise<T>>, key: string, run: () => Promise<T>): Promise<T> {
  const running = pending.get(key);
  if (running) return running;
  const started = run().finally(() => pending.delete(key));
  pending.set(key, started);
  return started;
}
