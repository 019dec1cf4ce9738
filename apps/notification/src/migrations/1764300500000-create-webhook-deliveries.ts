import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Notification's outbound webhooks: one row per job status change to deliver (the durable timer
 * is `next_attempt_at`, the claim is a lease), and one row per HTTP attempt.
 */
export class CreateWebhookDeliveries1764300500000 implements MigrationInterface {
  name = 'CreateWebhookDeliveries1764300500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE webhook_deliveries (
        job_id           text NOT NULL,
        version          int NOT NULL,
        user_id          text NOT NULL,
        url              text NOT NULL,
        event_type       text NOT NULL,
        body             text NOT NULL,
        status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts         int NOT NULL DEFAULT 0,
        next_attempt_at  timestamptz NOT NULL DEFAULT now(),
        last_attempt_at  timestamptz NULL,
        delivered_at     timestamptz NULL,
        failed_at        timestamptz NULL,
        last_http_status int NULL,
        last_error       text NULL,
        lease_token      uuid NULL,
        lease_until      timestamptz NULL,
        created_at       timestamptz NOT NULL DEFAULT now(),
        updated_at       timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (job_id, version)
      )`);
    await q.query(`CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending'`);
    await q.query(`CREATE INDEX webhook_deliveries_failed_idx ON webhook_deliveries (failed_at) WHERE status = 'failed'`);
    await q.query(`
      CREATE TABLE webhook_attempts (
        id          bigserial PRIMARY KEY,
        job_id      text NOT NULL,
        version     int NOT NULL,
        attempt     int NOT NULL,
        at          timestamptz NOT NULL DEFAULT now(),
        outcome     text NOT NULL DEFAULT 'in_flight',
        http_status int NULL,
        error       text NULL,
        duration_ms int NULL,
        FOREIGN KEY (job_id, version) REFERENCES webhook_deliveries (job_id, version)
      )`);
    await q.query(`CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (job_id, version, attempt)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS webhook_attempts`);
    await q.query(`DROP TABLE IF EXISTS webhook_deliveries`);
  }
}
