#!/usr/bin/env node
// The operator CLI (`npm run reelay -- …`). While `npm start` runs, it uses the PostgreSQL and NATS
// that start found or started (an embedded PostgreSQL, a local nats-server), unless DATABASE_URL
// or NATS_URL say otherwise.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const running = join(ROOT, '.data', 'running.json');
const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
};
if (existsSync(running)) {
  // Left behind by a start that was killed (not stopped with Ctrl-C): its servers are gone with it.
  const { pid, env } = JSON.parse(readFileSync(running, 'utf8'));
  if (Number.isInteger(pid) && alive(pid)) for (const [name, value] of Object.entries(env ?? {})) process.env[name] ??= value;
}
await import(join(ROOT, 'apps/ops-cli/dist/main.js'));
