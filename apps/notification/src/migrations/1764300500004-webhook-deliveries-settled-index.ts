import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Finds the deliveries that ended longest ago (the history sweep) without reading the table whole. */
export class WebhookDeliveriesSettledIndex1764300500004 implements MigrationInterface {
  name = 'WebhookDeliveriesSettledIndex1764300500004';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX IF NOT EXISTS webhook_deliveries_settled_idx ON webhook_deliveries (updated_at) WHERE status <> 'pending'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS webhook_deliveries_settled_idx`);
  }
}
