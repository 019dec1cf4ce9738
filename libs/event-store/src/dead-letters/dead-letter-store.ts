import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { returnedRows } from '../sql/returned-rows';
import type { SqlExecutor } from '../sql/sql-executor';

export interface DeadLetter {
  id: string;
  consumer: string;
  subject: string;
  eventId: string | null;
  payload: unknown;
  error: string;
  deliveries: number;
  createdAt: string;
  replayedAt: string | null;
}

export interface NewDeadLetter {
  consumer: string;
  subject: string;
  eventId?: string | null;
  payload: unknown;
  error: string;
  deliveries: number;
}

interface DeadLetterRow {
  id: string;
  consumer: string;
  subject: string;
  event_id: string | null;
  payload: unknown;
  error: string;
  deliveries: number;
  created_at: Date;
  replayed_at: Date | null;
}

const COLUMNS = `id::text AS id, consumer, subject, event_id, payload, error, deliveries, created_at, replayed_at`;

/** Messages a consumer gave up on after bounded deliveries: visible to operators, replayable. */
export class DeadLetterStore {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * A second letter for an event the consumer has an open one for (its message came back after a
   * crash, or a replay failed again) joins that one; deliveries are the message's count, which only
   * grows. It ends a replay under way (its token), so that replay does not mark the letter replayed.
   */
  async record(letter: NewDeadLetter, tx?: SqlExecutor): Promise<DeadLetter> {
    const rows: DeadLetterRow[] = await (tx ?? this.dataSource).query(
      `INSERT INTO dead_letters (consumer, subject, event_id, payload, error, deliveries)
       VALUES ($1, $2, $3, $4::jsonb, $5, $6)
       ON CONFLICT (consumer, event_id) WHERE replayed_at IS NULL AND event_id IS NOT NULL
       DO UPDATE SET deliveries = greatest(dead_letters.deliveries, EXCLUDED.deliveries), error = EXCLUDED.error, replay_token = NULL
       RETURNING ${COLUMNS}`,
      [letter.consumer, letter.subject, letter.eventId ?? null, JSON.stringify(letter.payload ?? null), letter.error, letter.deliveries],
    );
    return toDeadLetter(rows[0]);
  }

  /** Oldest first; replayed letters only when asked. */
  /** Oldest first; `after` (a letter's id) pages on past it. */
  async list(filter: { consumer?: string; includeReplayed?: boolean; limit?: number; after?: string } = {}): Promise<DeadLetter[]> {
    const rows: DeadLetterRow[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM dead_letters
       WHERE ($1::text IS NULL OR consumer = $1) AND ($2::boolean OR replayed_at IS NULL) AND ($4::bigint IS NULL OR id > $4::bigint)
       ORDER BY dead_letters.id LIMIT $3`,
      [filter.consumer ?? null, filter.includeReplayed ?? false, filter.limit ?? 1000, filter.after ?? null],
    );
    return rows.map(toDeadLetter);
  }

  async get(id: string): Promise<DeadLetter | null> {
    if (!/^\d+$/.test(id)) return null;
    const rows: DeadLetterRow[] = await this.dataSource.query(`SELECT ${COLUMNS} FROM dead_letters WHERE id = $1::bigint`, [id]);
    return rows[0] ? toDeadLetter(rows[0]) : null;
  }

  /** Starts a replay of an open letter: the token its end passes to markReplayed; null if it does not exist or was replayed. */
  async beginReplay(id: string): Promise<string | null> {
    if (!/^\d+$/.test(id)) return null;
    const token = randomUUID();
    const rows = returnedRows(await this.dataSource.query(
      `UPDATE dead_letters SET replay_token = $2::uuid WHERE id = $1::bigint AND replayed_at IS NULL RETURNING id`,
      [id, token],
    ));
    return rows.length > 0 ? token : null;
  }

  /**
   * Marks a letter replayed; false if it does not exist or was already replayed, or, with the token
   * of a replay, when the event failed again during that replay (the letter stays open).
   */
  async markReplayed(id: string, replayToken?: string): Promise<boolean> {
    if (!/^\d+$/.test(id)) return false;
    const rows = returnedRows(await this.dataSource.query(
      `UPDATE dead_letters SET replayed_at = now() WHERE id = $1::bigint AND replayed_at IS NULL AND ($2::uuid IS NULL OR replay_token = $2::uuid) RETURNING id`,
      [id, replayToken ?? null],
    ));
    return rows.length > 0;
  }
}

function toDeadLetter(r: DeadLetterRow): DeadLetter {
  return {
    id: r.id,
    consumer: r.consumer,
    subject: r.subject,
    eventId: r.event_id,
    payload: r.payload,
    error: r.error,
    deliveries: r.deliveries,
    createdAt: new Date(r.created_at).toISOString(),
    replayedAt: r.replayed_at ? new Date(r.replayed_at).toISOString() : null,
  };
}
