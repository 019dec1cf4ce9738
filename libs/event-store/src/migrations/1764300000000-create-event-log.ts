import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The append-only event log and its companions (streams for optimistic concurrency,
 * checkpoints for relays and projections, dead letters for poison messages).
 */
export class CreateEventLog1764300000000 implements MigrationInterface {
  name = 'CreateEventLog1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE events (
        global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        transaction_id  xid8 NOT NULL DEFAULT pg_current_xact_id(),
        stream_id       text NOT NULL,
        stream_version  int NOT NULL CHECK (stream_version > 0),
        event_id        uuid NOT NULL,
        type            text NOT NULL,
        schema_version  int NOT NULL CHECK (schema_version > 0),
        data            jsonb NOT NULL,
        metadata        jsonb NOT NULL DEFAULT '{}'::jsonb,
        recorded_at     timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT events_event_id_unique UNIQUE (event_id),
        CONSTRAINT events_stream_version_unique UNIQUE (stream_id, stream_version)
      )`);
    // The log reader's keyset order: (transaction_id, global_position).
    await q.query(`CREATE INDEX events_transaction_position_idx ON events (transaction_id, global_position)`);

    // Statement-level so that even an UPDATE/DELETE matching no rows is refused.
    await q.query(`
      CREATE FUNCTION reelay_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'events are append-only: % is not allowed', TG_OP USING ERRCODE = '55000';
      END $$`);
    await q.query(`
      CREATE TRIGGER events_append_only_rows BEFORE UPDATE OR DELETE ON events
      FOR EACH STATEMENT EXECUTE FUNCTION reelay_events_append_only()`);
    await q.query(`
      CREATE TRIGGER events_append_only_truncate BEFORE TRUNCATE ON events
      FOR EACH STATEMENT EXECUTE FUNCTION reelay_events_append_only()`);

    // Wake-up for tailing readers; delivered at commit, collapsed per transaction. Polling stays the fallback.
    await q.query(`
      CREATE FUNCTION reelay_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('reelay_events', '');
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER events_notify AFTER INSERT ON events
      FOR EACH STATEMENT EXECUTE FUNCTION reelay_events_notify()`);

    await q.query(`
      CREATE TABLE streams (
        stream_id  text PRIMARY KEY,
        version    int NOT NULL CHECK (version > 0),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE checkpoints (
        name            text PRIMARY KEY,
        transaction_id  xid8 NOT NULL DEFAULT '0',
        global_position bigint NOT NULL DEFAULT 0,
        updated_at      timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE dead_letters (
        id          bigserial PRIMARY KEY,
        consumer    text NOT NULL,
        subject     text NOT NULL,
        event_id    uuid NULL,
        payload     jsonb NOT NULL,
        error       text NOT NULL,
        deliveries  int NOT NULL DEFAULT 0,
        created_at  timestamptz NOT NULL DEFAULT now(),
        replayed_at timestamptz NULL
      )`);
    await q.query(`CREATE INDEX dead_letters_consumer_idx ON dead_letters (consumer, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS dead_letters`);
    await q.query(`DROP TABLE IF EXISTS checkpoints`);
    await q.query(`DROP TABLE IF EXISTS streams`);
    await q.query(`DROP TABLE IF EXISTS events`);
    await q.query(`DROP FUNCTION IF EXISTS reelay_events_notify()`);
    await q.query(`DROP FUNCTION IF EXISTS reelay_events_append_only()`);
  }
}
