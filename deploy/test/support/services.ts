import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO = resolve(__dirname, '../../..');

export const readRepoFile = (path: string): string => readFileSync(join(REPO, path), 'utf8');

/** The long-running reelay services (provider-sim is described separately: it has no zod config). */
export interface ServiceSpec {
  name: 'gateway' | 'intake' | 'dispatch' | 'polling' | 'notification';
  portVar: string;
  port: number;
  configFile: string;
}

export const SERVICES: readonly ServiceSpec[] = [
  { name: 'gateway', portVar: 'GATEWAY_PORT', port: 3000, configFile: 'apps/gateway/src/config/gateway-config.ts' },
  { name: 'intake', portVar: 'INTAKE_PORT', port: 3001, configFile: 'apps/intake/src/config.ts' },
  { name: 'dispatch', portVar: 'DISPATCH_PORT', port: 3002, configFile: 'apps/dispatch/src/config.ts' },
  { name: 'polling', portVar: 'POLLING_PORT', port: 3003, configFile: 'apps/polling/src/config.ts' },
  { name: 'notification', portVar: 'NOTIFICATION_PORT', port: 3004, configFile: 'apps/notification/src/config.ts' },
];

export const PROVIDER_SIM = { name: 'provider-sim', portVar: 'PORT', port: 4010, healthPath: '/_sim/health' } as const;

export const BASE_CONFIG_FILE = 'libs/service-kit/src/config/load-config.ts';

export interface ConfigVariable {
  name: string;
  /** No default and not optional: the service refuses to start without it. */
  required: boolean;
  /** The code default points at this machine (127.0.0.1), which is wrong inside a container. */
  defaultsToLoopback: boolean;
}

/**
 * The variables a zod config file declares: top-level `NAME: <schema>,` entries of its
 * `z.object`/`.extend` (two-space indent, upper-case names). A schema counts as required when it
 * is a plain `z.` chain with neither `.default(` nor `.optional()`; helper calls (`csv`, `ms(...)`,
 * `portVar(...)`) all carry defaults.
 */
export function configVariables(file: string): ConfigVariable[] {
  const out: ConfigVariable[] = [];
  for (const line of readRepoFile(file).split('\n')) {
    const m = /^ {2}([A-Z][A-Z0-9_]*):\s*(.+)$/.exec(line);
    if (!m) continue;
    const expr = m[2];
    out.push({
      name: m[1],
      required: expr.startsWith('z.') && !/\.default\(|\.optional\(\)/.test(expr),
      defaultsToLoopback: /127\.0\.0\.1|localhost/.test(expr),
    });
  }
  return out;
}

/** Whether the service builds provider adapters (so it needs provider settings: sim URL, keys). */
export function buildsProviderAdapters(service: ServiceSpec): boolean {
  return sourceFiles(join(REPO, 'apps', service.name, 'src')).some((f) => /(createAdapters|configuredAdapters)\(/.test(readFileSync(f, 'utf8')));
}

/** Production source files under `dir`: no specs, no test harnesses. */
export function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return entry === 'testing' ? [] : sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.spec.ts') ? [path] : [];
  });
}

/**
 * The variables a container of `service` must be given, derived from its config schema:
 * BaseConfig variables whose default is loopback, its port variable, every required variable,
 * and the settings that only make sense per deployment (shared STORAGE_DIR, PUBLIC_BASE_URL for
 * callbacks, WEBHOOK_MASTER_SECRET for webhook signing — optional in the gateway, which then
 * answers 503 for the webhook secret; ASSET_URL_SECRET for signed links to uploaded images).
 */
export function requiredEnv(service: ServiceSpec): string[] {
  const own = configVariables(service.configFile);
  const base = configVariables(BASE_CONFIG_FILE);
  const names = new Set<string>([
    ...base.filter((v) => v.defaultsToLoopback || v.required).map((v) => v.name),
    ...own.filter((v) => v.required).map((v) => v.name),
    service.portVar,
  ]);
  for (const deploymentSpecific of ['STORAGE_DIR', 'PUBLIC_BASE_URL', 'WEBHOOK_MASTER_SECRET', 'ASSET_URL_SECRET']) {
    if (own.some((v) => v.name === deploymentSpecific)) names.add(deploymentSpecific);
  }
  return [...names].sort();
}
