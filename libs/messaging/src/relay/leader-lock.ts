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

  /** The lock held by `client`'s session (LeaderCandidate hands over the session whose lock it took). */
  constructor(private readonly client: Client) {
    client.on('error', (err) => (this.lostReason = err));
    client.on('end', () => (this.lostReason ??= new Error('leader lock session ended')));
  }

  /**
   * Resolves to the held lock, or null if another session holds it. One try on a session of its
   * own; a standby that tries again and again keeps one session with {@link LeaderCandidate}.
   */
  static async tryAcquire(
    databaseUrl: string,
    name: string,
    onNotify?: () => void,
    listenChannel?: string,
    opts: { statementTimeoutMs?: number } = {},
  ): Promise<LeaderLock | null> {
    const candidate = new LeaderCandidate(databaseUrl, name, opts);
    try {
      return await candidate.tryAcquire(onNotify, listenChannel);
    } finally {
      await candidate.close();
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

/**
 * A standby's session, kept from one try for the lock to the next. Opening a PostgreSQL session
 * forks a backend and fills its caches, and a standby tries every second or so: with a session per
 * try, the three standby relays of a four-service stack opened about 2 sessions a second, and the
 * short-lived backends took about 5 % of a busy 2-core machine's CPU (perf, docs/benchmarks.md).
 * The session that wins the lock becomes the leader's (LISTEN, checkpoint saves) and the next
 * candidacy opens a new one; a session that failed or ended is replaced at the next try.
 */
export class LeaderCandidate {
  private client: Client | null = null;
  private ended = false;

  constructor(
    private readonly databaseUrl: string,
    private readonly name: string,
    private readonly opts: { statementTimeoutMs?: number } = {},
  ) {}

  /** The held lock (this candidate's session, handed over), or null while another session holds it. */
  async tryAcquire(onNotify?: () => void, listenChannel?: string): Promise<LeaderLock | null> {
    const client = await this.session();
    try {
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked', [this.name]);
      if (!rows[0]?.locked) return null;
      this.client = null;
      const lock = new LeaderLock(client);
      if (onNotify && listenChannel) {
        client.on('notification', (n) => n.channel === listenChannel && onNotify());
        await client.query(`LISTEN ${listenChannel}`);
      }
      return lock;
    } catch (err) {
      if (this.client === client) this.client = null;
      await client.end().catch(() => undefined);
      throw err;
    }
  }

  /** Ends the kept session, if any. */
  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private async session(): Promise<Client> {
    if (this.client && !this.ended) return this.client;
    await this.close();
    const client = await openLockSession(this.databaseUrl, `reelay-lock:${this.name}`, this.opts.statementTimeoutMs ?? 30_000);
    this.ended = false;
    client.on('end', () => this.client === client && (this.ended = true));
    client.on('error', () => this.client === client && (this.ended = true));
    this.client = client;
    return client;
  }
}
