import { scrubSecrets } from '../logging/scrub-secrets';

/**
 * A service's last line when it cannot start, or meets an error nothing handled: one JSON line on
 * stderr, scrubbed as every log line is (Node's own report of an unhandled error prints it whole).
 */
export function exitFatally(service: string, err: unknown, msg = 'could not start'): never {
  const line = JSON.stringify({ level: 'fatal', time: new Date().toISOString(), service, msg, err: err instanceof Error ? err.message : String(err) });
  process.stderr.write(`${scrubSecrets(line)}\n`);
  process.exit(1);
}
