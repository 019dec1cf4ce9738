import { webhookSecretFor } from '@reelay/accounts';
import type { WebhookSecret } from '@reelay/contracts';
import type { DataSource } from 'typeorm';

interface GenerationRow {
  generation: number;
  rotated_at: Date | null;
  previous_until: Date | null;
  /** The oldest generation still signing while `previous_until` lasts (null: the one before `generation`). */
  signing_from: number | null;
}

const NEVER_ROTATED: GenerationRow = { generation: 0, rotated_at: null, previous_until: null, signing_from: null };
/** Generations a webhook is signed under at most: the current one and two it replaced within their windows. */
const MAX_SIGNING_GENERATIONS = 3;

/**
 * Users' webhook signing secrets: derived from the master secret(s) and the user's rotation
 * generation (webhook_secret_generations), so a rotation stores a number, never a secret.
 */
export class WebhookSecrets {
  constructor(
    private readonly ds: DataSource,
    private readonly masters: { current: string; previous?: string },
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Every secret a webhook of the user is signed under now: the current one, and during a rotation
   * the one it replaced (the user's, until its end; the operator's previous master secret, while set).
   */
  async signingSecretsOf(userId: string): Promise<string[]> {
    const row = await this.rowOf(userId);
    const generations = [row.generation];
    if (this.previousLasts(row)) for (let g = row.generation - 1; g >= Math.max(row.signing_from ?? row.generation - 1, 0); g--) generations.push(g);
    const masters = this.masters.previous ? [this.masters.current, this.masters.previous] : [this.masters.current];
    return masters.flatMap((master) => generations.map((g) => webhookSecretFor(master, userId, g)));
  }

  async show(userId: string): Promise<WebhookSecret> {
    return this.present(userId, await this.rowOf(userId));
  }

  /**
   * A new secret for the user; webhooks stay signed under the one it replaces for `keepPreviousMs`
   * too. Rotating again within that time (a retry of a rotation whose answer was lost, say) keeps
   * the older ones signing as well, up to MAX_SIGNING_GENERATIONS, so the secret receivers hold
   * keeps working until they have fetched the new one. `keepPreviousMs` 0 (a leak) ends them all.
   */
  async rotate(userId: string, keepPreviousMs: number): Promise<WebhookSecret> {
    const now = this.now();
    const previousUntil = keepPreviousMs > 0 ? new Date(now.getTime() + keepPreviousMs) : null;
    const [row]: GenerationRow[] = await this.ds.query(
      `INSERT INTO webhook_secret_generations AS g (user_id, generation, rotated_at, previous_until, signing_from) VALUES ($1, 1, $2, $3, 0)
       ON CONFLICT (user_id) DO UPDATE SET
         generation = g.generation + 1, rotated_at = $2, previous_until = $3,
         signing_from = CASE WHEN g.previous_until > $2 THEN GREATEST(coalesce(g.signing_from, g.generation - 1), g.generation + 1 - ($4::int - 1)) ELSE g.generation END
       RETURNING generation, rotated_at, previous_until, signing_from`,
      [userId, now, previousUntil, MAX_SIGNING_GENERATIONS],
    );
    return this.present(userId, row!);
  }

  private async rowOf(userId: string): Promise<GenerationRow> {
    const rows: GenerationRow[] = await this.ds.query(`SELECT generation, rotated_at, previous_until, signing_from FROM webhook_secret_generations WHERE user_id = $1`, [userId]);
    return rows[0] ?? NEVER_ROTATED;
  }

  /** Webhooks are still signed under the generation before the row's. */
  private previousLasts(row: GenerationRow): row is GenerationRow & { previous_until: Date } {
    return row.previous_until !== null && row.previous_until.getTime() > this.now().getTime();
  }

  private present(userId: string, row: GenerationRow): WebhookSecret {
    return {
      secret: webhookSecretFor(this.masters.current, userId, row.generation),
      generation: row.generation,
      rotatedAt: row.rotated_at?.toISOString() ?? null,
      previousSecretValidUntil: this.previousLasts(row) ? row.previous_until.toISOString() : null,
    };
  }
}
