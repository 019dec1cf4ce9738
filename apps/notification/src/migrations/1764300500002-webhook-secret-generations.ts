import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each user's webhook secret rotations: the current generation (the secret is derived from it, never
 * stored) and until when webhooks are also signed under the one before. No row: generation 0.
 */
export class WebhookSecretGenerations1764300500002 implements MigrationInterface {
  name = 'WebhookSecretGenerations1764300500002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS webhook_secret_generations (
        user_id text PRIMARY KEY,
        generation integer NOT NULL,
        rotated_at timestamptz NOT NULL,
        previous_until timestamptz NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS webhook_secret_generations`);
  }
}
