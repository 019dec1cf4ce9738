import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SimRouter, send } from './core/router';
import { SimContext } from './core/sim-context';
import { DEFAULT_SIM_OPTIONS, type SimOptions } from './core/sim-options';
import { registerSimRoutes } from './core/sim-routes';
import { fixtureVideo } from './core/fixture-video';
import type { SimProvider } from './core/sim-provider';
import { SIM_PROVIDERS } from './sim-providers';

export interface StartProviderSimOptions extends Partial<SimOptions> {
  port?: number;
  host?: string;
  /** Base URL clients use to reach this server (for output/file URLs); defaults to http://127.0.0.1:<port>. */
  publicUrl?: string;
  providers?: readonly SimProvider[];
}

export interface RunningProviderSim {
  url: string;
  port: number;
  ctx: SimContext;
  close(): Promise<void>;
}

export async function startProviderSim(opts: StartProviderSimOptions = {}): Promise<RunningProviderSim> {
  const { port = 0, host = '127.0.0.1', publicUrl, providers = SIM_PROVIDERS, ...simOpts } = opts;
  const options: SimOptions = { ...DEFAULT_SIM_OPTIONS, ...stripUndefined(simOpts) };
  await fixtureVideo(); // render the output file before the first request needs it
  const ctx = new SimContext(options);
  const router = new SimRouter();
  registerSimRoutes(router, ctx);
  for (const p of providers) p.register(router, ctx);

  const server = createServer((req, res) => {
    router.handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, { status: 500, body: { error: `sim: ${(e as Error).message}` } });
      else res.destroy();
    });
  });
  // Long enough for clients to reuse connections (fetch keeps one only if the hint is over 1 s), and
  // long past the pauses between a test's calls: a client timer that fires late on a loaded machine
  // could otherwise reuse a socket the simulator is closing, and the request dies with ECONNRESET.
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const actualPort = (server.address() as AddressInfo).port;
  ctx.publicUrl = (publicUrl ?? `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${actualPort}`).replace(/\/+$/, '');

  return {
    url: ctx.publicUrl,
    port: actualPort,
    ctx,
    close: async () => {
      await ctx.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
