import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The first read model: one row per job, the full public Job object in `job`. Rebuildable from the log. */
export class CreateJobView1764300000001 implements MigrationInterface {
  name = 'CreateJobView1764300000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE job_view (
        job_id       text PRIMARY KEY,
        user_id      text NOT NULL,
        status       text NOT NULL,
        message      text NOT NULL,
        error_code   text NULL,
        model        text NOT NULL,
        provider     text NULL,
        progress     int NULL,
        created_at   timestamptz NOT NULL,
        updated_at   timestamptz NOT NULL,
        completed_at timestamptz NULL,
        version      int NOT NULL,
        job          jsonb NOT NULL
      )`);
    await q.query(`CREATE INDEX job_view_user_created_idx ON job_view (user_id, created_at DESC, job_id DESC)`);
    await q.query(`CREATE INDEX job_view_status_idx ON job_view (status)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS job_view`);
  }
}
