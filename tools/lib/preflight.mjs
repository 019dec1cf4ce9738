// Shared start-up checks for the npm scripts: dependencies installed, services reachable.
import { execSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout, as a path (a URL's pathname would keep `%20` for a space). Ends with a separator. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export function ensureDependencies() {
  const marker = join(ROOT, 'node_modules', '.package-lock.json');
  const lock = join(ROOT, 'package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  console.log('[reelay] installing dependencies (npm ci)…');
  execSync('npm ci --no-audit --no-fund', { cwd: ROOT, stdio: 'inherit' });
}

export function canConnect(url, defaultPort, timeoutMs = 1500) {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: u.hostname || '127.0.0.1', port: Number(u.port || defaultPort) });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export function run(cmd, opts = {}) {
  console.log(`[reelay] $ ${cmd}`);
  execSync(cmd, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', ...opts.env } });
}
