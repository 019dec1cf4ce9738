import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `reelay_append_groups(groups)`: several independent appends (each `{ streams, events }` as
 * `reelay_append` takes them) in one statement and one transaction, the group commit of
 * EventStore.appendMany. Each group keeps its own all-or-nothing outcome: a stale expected version
 * answers that group `{ conflict }` and writes none of it, the other groups are written. Returns
 * the outcomes as a JSON array in the order of `groups`.
 *
 * Every stream of every group is locked first, in key order (as `reelay_append` does for one
 * group), so two concurrent group commits cannot deadlock and every lock is taken before the
 * transaction's first write (hence before it has an xid): the log order still agrees with each
 * stream's version order. `reelay_append` then takes those locks again, which is a no-op for a
 * lock this transaction holds. Groups run in order, and each statement of a VOLATILE function sees
 * the writes of the groups before it, so two groups on one stream behave as two appends in a row.
 * An error (e.g. a duplicate event id) aborts the whole statement; the caller retries the groups
 * one by one so that only the faulty one fails.
 */
export class CreateAppendGroupsFunction1764300000003 implements MigrationInterface {
  name = 'CreateAppendGroupsFunction1764300000003';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION reelay_append_groups(p_groups jsonb) RETURNS jsonb
      LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        v_group jsonb;
        v_out jsonb := '[]'::jsonb;
      BEGIN
        PERFORM pg_advisory_xact_lock(k)
        FROM (SELECT DISTINCT hashtextextended(s->>'stream_id', 0) AS k
                FROM jsonb_array_elements(p_groups) AS g, jsonb_array_elements(g->'streams') AS s
               ORDER BY 1) AS keys;
        FOR v_group IN SELECT value FROM jsonb_array_elements(p_groups) LOOP
          v_out := v_out || jsonb_build_array(reelay_append(v_group->'streams', v_group->'events'));
        END LOOP;
        RETURN v_out;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION IF EXISTS reelay_append_groups(jsonb)`);
  }
}
