import { startProviderSim } from './start-provider-sim';
import { simOptionsFromEnv } from './core/sim-options';

async function main(): Promise<void> {
  const sim = await startProviderSim({
    port: Number(process.env.PORT ?? 4010),
    host: process.env.HOST ?? '127.0.0.1',
    publicUrl: process.env.SIM_PUBLIC_URL,
    ...simOptionsFromEnv(process.env),
  });
  process.stdout.write(`${JSON.stringify({ msg: 'provider-sim listening', url: sim.url })}\n`);
  const stop = (): void => {
    sim.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`provider-sim failed to start: ${(e as Error).message}\n`);
  process.exit(1);
});
