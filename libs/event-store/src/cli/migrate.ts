import { createDataSource, DEFAULT_DATABASE_URL, ensureDatabase, runMigrations } from '../data-source/create-data-source';

/**
 * `npm run migrate`: creates the database if needed and runs the event store's pending migrations
 * (the log, checkpoints, snapshots, dead letters, job_view). Each service migrates its own tables
 * (slots, circuits, poll schedule, webhook deliveries, API keys) when it starts.
 */
async function main(): Promise<void> {
  const url = process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
  const where = redact(url);
  if (await ensureDatabase(url)) console.log(`created database ${where}`);
  const dataSource = createDataSource(url, { poolSize: 2, applicationName: 'reelay-migrate' });
  await dataSource.initialize();
  try {
    const ran = await runMigrations(dataSource);
    if (ran.length === 0) console.log(`${where}: event store schema up to date, no pending migrations`);
    for (const name of ran) console.log(`${where}: applied ${name}`);
    console.log('each service migrates its own tables when it starts');
  } finally {
    await dataSource.destroy();
  }
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}

main().catch((err: unknown) => {
  console.error(`migrate failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
