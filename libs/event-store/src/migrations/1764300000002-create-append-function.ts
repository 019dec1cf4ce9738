import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `reelay_append(streams, events)`: the whole append in one statement (one round trip, no
 * BEGIN/COMMIT needed), in the spirit of Emmett's `emt_append_to_stream`.
 *
 * streams: [{ stream_id, expected }] (expected -1 = any, 0 = must not exist)
 * events:  [{ ord, stream_id, idx, event_id, type, schema_version, data, metadata }] (idx 0-based per stream)
 * Returns { conflict: { stream_id, expected, actual } } having written nothing, or
 * { base: { stream_id: version before }, events: [{ event_id, global_position, transaction_id, recorded_at }] }.
 *
 * 1. Transaction-scoped advisory locks on every stream, in key order (no deadlocks between writers),
 *    taken before any write, so before the transaction has an xid. A later writer of a stream
 *    therefore gets a higher xid than the earlier one, and the log order (transaction_id,
 *    global_position) agrees with each stream's version order; 'any' never conflicts spuriously.
 * 2. Read versions and check expectations: in a VOLATILE plpgsql function every statement takes a
 *    fresh READ COMMITTED snapshot, so this read sees every commit made before the locks were granted.
 * 3. Conditional update/insert of `streams` (the optimistic-concurrency guard, which also catches a
 *    writer that bypassed the locks), then one multi-row INSERT of the events in input order.
 */
export class CreateAppendFunction1764300000002 implements MigrationInterface {
  name = 'CreateAppendFunction1764300000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION reelay_append(p_streams jsonb, p_events jsonb) RETURNS jsonb
      LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        v_base jsonb;
        v_conflict jsonb;
        v_written int;
        v_expected_writes int;
        v_events jsonb;
      BEGIN
        PERFORM pg_advisory_xact_lock(k)
        FROM (SELECT DISTINCT hashtextextended(s->>'stream_id', 0) AS k FROM jsonb_array_elements(p_streams) AS s ORDER BY 1) AS keys;

        SELECT jsonb_object_agg(i.stream_id, coalesce(s.version, 0)),
               (array_agg(jsonb_build_object('stream_id', i.stream_id, 'expected', i.expected, 'actual', coalesce(s.version, 0)))
                  FILTER (WHERE i.expected >= 0 AND i.expected <> coalesce(s.version, 0)))[1]
        INTO v_base, v_conflict
        FROM jsonb_to_recordset(p_streams) AS i(stream_id text, expected int)
        LEFT JOIN streams s ON s.stream_id = i.stream_id;

        IF v_conflict IS NOT NULL THEN
          RETURN jsonb_build_object('conflict', v_conflict);
        END IF;

        WITH counts AS (
          SELECT stream_id, (v_base->>stream_id)::int AS base, count(*)::int AS n
          FROM jsonb_to_recordset(p_events) AS e(stream_id text) GROUP BY stream_id
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
          FROM jsonb_to_recordset(p_events)
            AS e(ord int, stream_id text, idx int, event_id uuid, type text, schema_version int, data jsonb, metadata jsonb)
          ORDER BY e.ord
          RETURNING event_id, global_position, transaction_id, recorded_at
        )
        SELECT coalesce(jsonb_agg(jsonb_build_object(
                 'event_id', event_id, 'global_position', global_position::text,
                 'transaction_id', transaction_id::text, 'recorded_at', recorded_at)), '[]'::jsonb)
        INTO v_events FROM ins;

        RETURN jsonb_build_object('base', v_base, 'events', v_events);
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION IF EXISTS reelay_append(jsonb, jsonb)`);
  }
}
