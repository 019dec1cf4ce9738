import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `draining`: the job was canceled but its provider task may still run (the provider has no
 * cancel call, or refused it). Its row stays so checks keep asking until the task is over; they
 * record only that (JobProviderTaskEnded, which frees the job's capacity slot), never an outcome.
 */
export class PollScheduleDraining1764300400002 implements MigrationInterface {
  name = 'PollScheduleDraining1764300400002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE poll_schedule ADD COLUMN draining boolean NOT NULL DEFAULT false`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE poll_schedule DROP COLUMN IF EXISTS draining`);
  }
}
