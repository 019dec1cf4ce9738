import { Client } from 'pg';

/**
 * PostgreSQL's readiness check, on a session of its own outside the service's pool. Under load every
 * pooled connection is busy (and some are held for good: a LISTEN, a lock round), so a probe that
 * borrowed one would wait behind the work until it timed out, and the replica would be taken out of
 * rotation for being busy, its traffic shed onto replicas as busy as it. The session is opened at the
 * first check and again after any failure; a check gives up within `timeoutMs` (to connect, then to
 * answer), so a server that stopped answering reads as down.
 */
export class PostgresProbe {
  private client: Client | null = null;
  private opening: Promise<Client> | null = null;

  constructor(
    private readonly databaseUrl: string,
    private readonly applicationName: string,
    private readonly timeoutMs = 2_000,
  ) {}

  readonly check = async (): Promise<boolean> => {
    // A session kept from an earlier check may have died since (a restart, a failover): one more try on a new one.
    for (let tries = this.client ? 2 : 1; tries > 0; tries--) {
      let client: Client | null = null;
      try {
        client = await this.session();
        return (await client.query('SELECT 1 AS ok')).rows[0]?.ok === 1;
      } catch {
        if (client) this.forget(client);
      }
    }
    return false;
  };

  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private session(): Promise<Client> {
    if (this.client) return Promise.resolve(this.client);
    return (this.opening ??= this.open().finally(() => (this.opening = null)));
  }

  private async open(): Promise<Client> {
    const client = new Client({
      connectionString: this.databaseUrl,
      application_name: this.applicationName.slice(0, 63),
      connectionTimeoutMillis: this.timeoutMs,
      query_timeout: this.timeoutMs,
      keepAlive: true,
    });
    client.on('error', () => this.forget(client));
    try {
      await client.connect();
    } catch (err) {
      void client.end().catch(() => undefined);
      throw err;
    }
    this.client = client;
    return client;
  }

  /** Not used again, and closed in the background: a dead socket's end must not hold up a check. */
  private forget(client: Client): void {
    if (this.client === client) this.client = null;
    void client.end().catch(() => undefined);
  }
}
