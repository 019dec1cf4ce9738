import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `reelay_append` reads and updates `streams` by key only: sequential scans, hash and merge joins
 * are turned off for its statements, none of which needs them. The planner takes `jsonb_to_recordset` to return 100 rows (its default for a
 * set-returning function), so until `streams` holds tens of thousands of rows it preferred a hash
 * join over a sequential scan of the whole table to a hundred index probes, for an append that
 * touches one or two streams: every append read every stream, an O(n) cost that grew with the
 * deployment's first weeks of jobs (measured in the benchmark: 11 scans of `streams` per job).
 * Turning off hash joins alone is not enough: a plan made while the table fits in a page (a nested
 * loop over a sequential scan) stays cached in the session's plpgsql function until the table is
 * analyzed. A nested loop over the primary key is the right plan at every size. `reelay_append_groups`
 * calls `reelay_append`, so group commits get the same plans.
 */
export class AppendPlansByKey1764300000004 implements MigrationInterface {
  name = 'AppendPlansByKey1764300000004';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER FUNCTION reelay_append(jsonb, jsonb) SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER FUNCTION reelay_append(jsonb, jsonb) RESET ALL`);
  }
}
