import { Client } from 'pg';

/**
 * A PostgreSQL session of its own for session-level advisory locks, which live exactly as long as
 * the session: it must end soon after its holder is gone, so the server probes the client.
 */
export async function openLockSession(databaseUrl: string, applicationName: string, statementTimeoutMs: number): Promise<Client> {
  const client = new Client({
    connectionString: databaseUrl,
    application_name: applicationName.slice(0, 63),
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    connectionTimeoutMillis: 10_000,
    statement_timeout: statementTimeoutMs,
    query_timeout: 2 * statementTimeoutMs,
  });
  client.on('error', () => undefined); // the owner listens too; an idle session's error must never crash the process
  await client.connect();
  try {
    // The server must notice a holder that vanished without closing its socket (a lost node, a
    // network cut): otherwise the backend, and the locks with it, live until the kernel's TCP
    // timeouts, from about 15 minutes to over 2 hours, and nobody else can take them meanwhile.
    // Probes after 10 s idle, every 5 s, 3 missed → gone; unacknowledged data → gone after 30 s.
    // Set per session (not as startup options) so that it also passes a pooler in session mode.
    await client.query(
      `SELECT set_config('tcp_keepalives_idle', '10', false), set_config('tcp_keepalives_interval', '5', false),
              set_config('tcp_keepalives_count', '3', false), set_config('tcp_user_timeout', '30000', false)`,
    );
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
  return client;
}

/**
 * One PostgreSQL session holding a session-level advisory lock. The lock lives exactly as long as
 * the session: when the holder process dies, the server ends its backend and the lock is free.
 */
export class LeaderLock {
  private lostReason: Error | null = null;

  private constructor(private readonly client: Client) {
    client.on('error', (err) => (this.lostReason = err));
    client.on('end', () => (this.lostReason ??= new Error('leader lock session ended')));
  }

  /** Resolves to the held lock, or null if another session holds it. */
  static async tryAcquire(
    databaseUrl: string,
    name: string,
    onNotify?: () => void,
    listenChannel?: string,
    opts: { statementTimeoutMs?: number } = {},
  ): Promise<LeaderLock | null> {
    // The relay saves its checkpoints on this session, so a save must not wait forever: the server
    // cancels a blocked one (the error ends the leadership, and ending the session frees the lock for
    // a standby), and the client gives up on a server that no longer answers.
    const client = await openLockSession(databaseUrl, `reelay-lock:${name}`, opts.statementTimeoutMs ?? 30_000);
    try {
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked', [name]);
      if (!rows[0]?.locked) {
        await client.end();
        return null;
      }
      const lock = new LeaderLock(client);
      if (onNotify && listenChannel) {
        client.on('notification', (n) => n.channel === listenChannel && onNotify());
        await client.query(`LISTEN ${listenChannel}`);
      }
      return lock;
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
  }

  get lost(): boolean {
    return this.lostReason !== null;
  }

  /**
   * Runs a statement on the lock's own session, and so only while the lock is held: a session that
   * ended (and with it the lock) fails the statement. Resolves with the rows, like a DataSource.
   */
  async query(sql: string, parameters?: unknown[]): Promise<unknown[]> {
    if (this.lostReason) throw this.lostReason;
    return (await this.client.query(sql, parameters)).rows;
  }

  /** Ending the session releases the lock (and any LISTEN). */
  async release(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}
