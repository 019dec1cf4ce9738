import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `signing_from`: the oldest generation webhooks are still signed under while `previous_until`
 * lasts. A rotation made again within that time (a client retrying one whose answer it lost)
 * used to end the older secret at once, the one receivers held; it now stays until the new
 * window ends, at most three generations in all. NULL (rows from before): the one generation
 * before the current.
 */
export class WebhookSecretSigningFrom1764300500003 implements MigrationInterface {
  name = 'WebhookSecretSigningFrom1764300500003';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE webhook_secret_generations ADD COLUMN IF NOT EXISTS signing_from int`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE webhook_secret_generations DROP COLUMN IF EXISTS signing_from`);
  }
}
