import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Agent, get } from 'node:http';
import { join } from 'node:path';
import { freePort } from '@reelay/testing';

describe('runService shutdown (a real process)', () => {
  it('answers a request under way on a keep-alive connection, closes that connection and exits cleanly, within the grace period', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [join(__dirname, '../../test/slow-service.cjs')], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = once(child, 'exit') as Promise<[number | null]>;
    try {
      while (!out.includes('slow listening')) {
        if (child.exitCode !== null) throw new Error(out);
        await new Promise((r) => setTimeout(r, 50));
      }
      const agent = new Agent({ keepAlive: true });
      const answered = new Promise<{ status?: number; body: string; connection?: string }>((resolve, reject) => {
        get({ port, path: '/slow', agent }, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode, body, connection: res.headers.connection }));
        }).on('error', reject);
      });
      await new Promise((r) => setTimeout(r, 150));
      child.kill('SIGTERM');

      expect(await answered).toEqual({ status: 200, body: 'done', connection: 'close' });
      // Before, the answered connection stayed open for keepAliveTimeout and the grace period's timer exited with 1.
      const [code] = await exited;
      expect({ code, stoppedCleanly: out.includes('stopped cleanly') }).toEqual({ code: 0, stoppedCleanly: true });
      agent.destroy();
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);
});
