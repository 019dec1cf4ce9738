import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The leased deliveries of a user, counted by every claim for the per-user bound
 * (WEBHOOK_CONCURRENCY_PER_USER) without reading the pending backlog: `finish` clears the lease,
 * so this index holds only deliveries in flight (or whose holder died, until their lease ends).
 */
export class WebhookLeasesByUser1764300500001 implements MigrationInterface {
  name = 'WebhookLeasesByUser1764300500001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX IF NOT EXISTS webhook_deliveries_leased_idx ON webhook_deliveries (user_id) WHERE status = 'pending' AND lease_until IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS webhook_deliveries_leased_idx`);
  }
}
