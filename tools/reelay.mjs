#!/usr/bin/env node
// The operator CLI (`npm run reelay -- …`). While `npm start` runs, it uses the PostgreSQL and NATS
// that start found or started (an embedded PostgreSQL, a local nats-server), unless DATABASE_URL
// or NATS_URL say otherwise.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runningLauncher } from './lib/leftovers.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const running = join(ROOT, '.data', 'running.json');
// Left behind by a start that was killed (not stopped with Ctrl-C), it names servers gone with it.
if (existsSync(running) && runningLauncher(join(ROOT, '.data', 'pids'), 'tools/start.mjs')) {
  for (const [name, value] of Object.entries(JSON.parse(readFileSync(running, 'utf8')))) process.env[name] ??= value;
}
await import(join(ROOT, 'apps/ops-cli/dist/main.js'));
