import type { MigrationInterface, QueryRunner } from 'typeorm';
import { CreateAppendGroupsFunction1764300000003 } from './1764300000003-create-append-groups-function';

/**
 * `reelay_append_groups` in one pass over all its groups instead of one `reelay_append` per group.
 *
 * The per-group loop ran five statements per group (lock, version read, stream writes, event
 * insert, and the notify trigger), so a group commit of 20 appends ran about a hundred; with
 * pg_stat_statements that was most of PostgreSQL's time per job in the end-to-end benchmark. Here
 * the whole commit is four statements whatever its size: read every stream's version and find the
 * groups whose expectation is stale, write the `streams` rows of the others, insert all their
 * events in group order, and build the answer. Each group keeps its own all-or-nothing outcome
 * (a stale group is answered `{ conflict }` and none of it is written) and the answer has the
 * shape `reelay_append` gives, so callers cannot tell the two paths apart.
 *
 * One pass reads every version before writing any, so it is only right when no stream is named
 * by two groups. When one is, the second group must see the first one's write (two appends in a
 * row), and the groups run one by one through `reelay_append` as before. Locks are taken exactly
 * as before: every stream of every group, in key order, before the first write. The planner
 * settings are `reelay_append`'s (see AppendPlansByKey1764300000004): every read is by key.
 */
export class AppendGroupsInOnePass1764300000005 implements MigrationInterface {
  name = 'AppendGroupsInOnePass1764300000005';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION reelay_append_groups(p_groups jsonb) RETURNS jsonb
      LANGUAGE plpgsql VOLATILE
      SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off
      AS $$
      DECLARE
        v_group jsonb;
        v_outcomes jsonb[] := '{}';
        v_base jsonb;
        v_conflicts jsonb;
        v_written int;
        v_expected_writes int;
        v_recorded jsonb;
      BEGIN
        PERFORM pg_advisory_xact_lock(k)
        FROM (SELECT DISTINCT hashtextextended(s->>'stream_id', 0) AS k
                FROM jsonb_array_elements(p_groups) AS g, jsonb_array_elements(g->'streams') AS s
               ORDER BY 1) AS keys;

        IF EXISTS (SELECT 1 FROM jsonb_array_elements(p_groups) AS g, jsonb_array_elements(g->'streams') AS s
                    GROUP BY s->>'stream_id' HAVING count(*) > 1) THEN
          FOR v_group IN SELECT value FROM jsonb_array_elements(p_groups) LOOP
            v_outcomes := v_outcomes || reelay_append(v_group->'streams', v_group->'events');
          END LOOP;
          RETURN to_jsonb(v_outcomes);
        END IF;

        WITH named AS (
          SELECT g.ord, i.stream_id, i.expected, coalesce(s.version, 0) AS version
            FROM jsonb_array_elements(p_groups) WITH ORDINALITY AS g(value, ord)
           CROSS JOIN LATERAL jsonb_to_recordset(g.value->'streams') AS i(stream_id text, expected int)
            LEFT JOIN streams s ON s.stream_id = i.stream_id
        )
        SELECT (SELECT jsonb_object_agg(stream_id, version) FROM named),
               coalesce((SELECT jsonb_object_agg(ord::text, conflict)
                           FROM (SELECT ord, (array_agg(jsonb_build_object('stream_id', stream_id, 'expected', expected, 'actual', version)))[1] AS conflict
                                   FROM named WHERE expected >= 0 AND expected <> version GROUP BY ord) AS stale), '{}'::jsonb)
          INTO v_base, v_conflicts;

        WITH counts AS (
          SELECT e.stream_id, (v_base->>e.stream_id)::int AS base, count(*)::int AS n
            FROM jsonb_array_elements(p_groups) WITH ORDINALITY AS g(value, ord)
           CROSS JOIN LATERAL jsonb_to_recordset(g.value->'events') AS e(stream_id text)
           WHERE NOT v_conflicts ? g.ord::text
           GROUP BY e.stream_id
        ), updated AS (
          UPDATE streams s SET version = c.base + c.n, updated_at = now()
            FROM counts c
           WHERE c.base > 0 AND s.stream_id = c.stream_id AND s.version = c.base
          RETURNING 1
        ), created AS (
          INSERT INTO streams (stream_id, version)
          SELECT stream_id, n FROM counts WHERE base = 0
          ON CONFLICT (stream_id) DO NOTHING
          RETURNING 1
        )
        SELECT (SELECT count(*) FROM updated) + (SELECT count(*) FROM created), (SELECT count(*) FROM counts)
          INTO v_written, v_expected_writes;

        IF v_written <> v_expected_writes THEN
          RAISE EXCEPTION 'stream versions changed under the append lock' USING ERRCODE = '40001';
        END IF;

        WITH ins AS (
          INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data, metadata)
          SELECT e.stream_id, (v_base->>e.stream_id)::int + e.idx + 1, e.event_id, e.type, e.schema_version, e.data, e.metadata
            FROM jsonb_array_elements(p_groups) WITH ORDINALITY AS g(value, ord)
           CROSS JOIN LATERAL jsonb_to_recordset(g.value->'events')
                 AS e(ord int, stream_id text, idx int, event_id uuid, type text, schema_version int, data jsonb, metadata jsonb)
           WHERE NOT v_conflicts ? g.ord::text
           ORDER BY g.ord, e.ord
          RETURNING event_id, global_position, transaction_id, recorded_at
        )
        SELECT coalesce(jsonb_object_agg(event_id::text, jsonb_build_object(
                 'event_id', event_id, 'global_position', global_position::text,
                 'transaction_id', transaction_id::text, 'recorded_at', recorded_at)), '{}'::jsonb)
          INTO v_recorded FROM ins;

        RETURN (
          SELECT coalesce(jsonb_agg(
                   CASE WHEN v_conflicts ? g.ord::text THEN jsonb_build_object('conflict', v_conflicts->(g.ord::text))
                   ELSE jsonb_build_object(
                     'base', (SELECT jsonb_object_agg(i.stream_id, v_base->i.stream_id) FROM jsonb_to_recordset(g.value->'streams') AS i(stream_id text)),
                     'events', coalesce((SELECT jsonb_agg(v_recorded->(e.event_id::text) ORDER BY e.ord)
                                           FROM jsonb_to_recordset(g.value->'events') AS e(ord int, event_id uuid)), '[]'::jsonb))
                   END ORDER BY g.ord), '[]'::jsonb)
            FROM jsonb_array_elements(p_groups) WITH ORDINALITY AS g(value, ord));
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION IF EXISTS reelay_append_groups(jsonb)`);
    await new CreateAppendGroupsFunction1764300000003().up(q);
  }
}
