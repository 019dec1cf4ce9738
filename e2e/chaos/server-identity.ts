import { connect } from 'node:net';
import { Client } from 'pg';

/**
 * What tells one run of a server from the next, so a restart is counted only once it happened:
 * a nats-server makes a new server_id at every start (its INFO greeting carries it), and
 * PostgreSQL's pg_postmaster_start_time() changes. Null while the server does not answer.
 */
export function natsServerId(url: string, timeoutMs = 5000): Promise<string | null> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port || 4222), hostname);
    let greeting = '';
    const done = (id: string | null) => {
      socket.destroy();
      resolve(id);
    };
    socket.setTimeout(timeoutMs, () => done(null));
    socket.on('error', () => done(null));
    socket.on('data', (chunk) => {
      greeting += chunk.toString('utf8');
      const end = greeting.indexOf('\r\n');
      if (end < 0) return;
      const info = /^INFO\s+(\{.*\})\s*$/.exec(greeting.slice(0, end));
      try {
        done(info ? String(JSON.parse(info[1]).server_id) : null);
      } catch {
        done(null);
      }
    });
  });
}

export async function postgresStartTime(url: string): Promise<string | null> {
  const db = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  // A server going down under a connected client emits 'error', which would otherwise throw.
  db.on('error', () => undefined);
  try {
    await db.connect();
    return String((await db.query(`SELECT pg_postmaster_start_time()::text AS t`)).rows[0].t);
  } catch {
    return null;
  } finally {
    await db.end().catch(() => undefined);
  }
}

/** Whether the server answers with another identity than `before` (asked until it answers, up to `waitMs`). */
export async function changedSince(before: string | null, identity: () => Promise<string | null>, waitMs = 30_000): Promise<boolean> {
  for (const until = Date.now() + waitMs; ; ) {
    const now = await identity();
    if (now !== null) return before !== null && now !== before;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 250));
  }
}
