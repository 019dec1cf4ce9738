#!/usr/bin/env node
// `npm test`: every tier against the real PostgreSQL and NATS. Works on a fresh clone alone.
import { spawnSync } from 'node:child_process';
import { ensureDependencies, canConnect, run } from './lib/preflight.mjs';

const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

ensureDependencies();
const only = process.argv[2];
const missing = [];
// The unit tier (`npm test unit`) needs neither.
const needsInfra = only !== 'unit';
if (needsInfra && !(await canConnect(DATABASE_URL, 5432))) missing.push(`PostgreSQL at ${DATABASE_URL} (set TEST_DATABASE_URL, or: apt-get install postgresql)`);
if (needsInfra && !(await canConnect(NATS_URL, 4222))) missing.push(`NATS with JetStream at ${NATS_URL} (set TEST_NATS_URL, or: apt-get install nats-server && nats-server -js)`);
// The CI-size chaos test restarts a nats-server of its own (the shared one is left alone).
const natsBin = process.env.NATS_SERVER_BIN ?? 'nats-server';
if ((!only || only === 'e2e') && spawnSync(natsBin, ['--version'], { stdio: 'ignore' }).status !== 0) {
  missing.push(`the nats-server program (${natsBin}), which the chaos test starts and restarts on a port of its own (apt-get install nats-server, or set NATS_SERVER_BIN)`);
}
if (missing.length) {
  console.error(`[reelay] the tests need real services and programs that are not there:\n  - ${missing.join('\n  - ')}`);
  process.exit(1);
}

// No --passWithNoTests: a tier whose pattern matches no file must fail, not pass empty.
const jest = 'npx jest --ci';
try {
  run('node tools/lint-boundaries.mjs');
  run('npx nx run-many -t typecheck --output-style=static');
  run('npx nx run-many -t build --output-style=static');
  if (!only || only === 'unit') run(`${jest} --testPathIgnorePatterns '\\.(int|e2e)\\.spec\\.ts$' /node_modules/ /dist/`);
  // One jest run covers every project, so per-project testTimeout settings do not apply: set it here.
  if (!only || only === 'int') run(`${jest} --testPathPatterns '\\.int\\.spec\\.ts$' --maxWorkers=2 --testTimeout=30000`);
  if (!only || only === 'e2e') run(`${jest} --testPathPatterns '\\.e2e\\.spec\\.ts$' --runInBand --testTimeout=120000`);
} catch {
  process.exit(1);
}
