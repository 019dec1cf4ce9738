import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Polling's durable timers: one row per job being followed at its provider. A row is due when
 * `next_check_at` has passed and nobody holds its lease (`lease_until` in the past or null).
 */
export class CreatePollSchedule1764300400000 implements MigrationInterface {
  name = 'CreatePollSchedule1764300400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE poll_schedule (
        job_id             text PRIMARY KEY,
        provider           text NOT NULL,
        provider_task_id   text NOT NULL,
        accepted_at        timestamptz NOT NULL,
        deadline_at        timestamptz NOT NULL,
        next_check_at      timestamptz NOT NULL,
        checks_done        int NOT NULL DEFAULT 0,
        check_errors       int NOT NULL DEFAULT 0,
        lease_token        uuid NULL,
        lease_until        timestamptz NULL,
        claimed_at         timestamptz NULL,
        check_requested_at timestamptz NULL,
        last_status        text NULL,
        -- correlation/trace of the JobProviderAccepted event, carried into the events checks write
        metadata           jsonb NOT NULL DEFAULT '{}',
        created_at         timestamptz NOT NULL DEFAULT now(),
        updated_at         timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX poll_schedule_due_idx ON poll_schedule (next_check_at)`);
    await q.query(`CREATE INDEX poll_schedule_task_idx ON poll_schedule (provider, provider_task_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS poll_schedule`);
  }
}
