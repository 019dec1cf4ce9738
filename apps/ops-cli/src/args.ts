import { UserId } from '@reelay/contracts';

export class UsageError extends Error {}

/** The flags a sub-command takes: `value` ones take the next argument (or `--name=value`), `switch` ones none. */
export type FlagSpec = Readonly<Record<string, 'value' | 'switch'>>;

/**
 * `a b --x 1 --flag` → positional [a, b], options {x: '1', flag: 'true'}. A flag not in `flags`, a
 * value flag without its value, or a switch given one is a UsageError: a mistyped filter must not
 * widen what a command acts on.
 */
export function parseArgs(argv: string[], flags: FlagSpec): { positional: string[]; options: Record<string, string> } {
  const positional: string[] = [];
  const options: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    const kind = Object.hasOwn(flags, name) ? flags[name] : undefined;
    if (!kind) throw new UsageError(`unknown option --${name}`);
    if (kind === 'switch') {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      options[name] = 'true';
    } else if (inline !== undefined) options[name] = inline;
    else if (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) options[name] = argv[++i];
    else throw new UsageError(`--${name} needs a value`);
  }
  return { positional, options };
}

export function required(options: Record<string, string>, name: string): string {
  const v = options[name];
  if (!v) throw new UsageError(`--${name} is required`);
  return v;
}

/** `--user`, checked as the API checks a user id. */
export function userId(options: Record<string, string>): string {
  const parsed = UserId.safeParse(required(options, 'user'));
  if (!parsed.success) throw new UsageError('--user takes a user id: 1 to 64 letters, digits, or _ . @ -');
  return parsed.data;
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** `90s`, `30m`, `2h`, `90d` → seconds. */
export function durationSeconds(value: string, name: string): number {
  const d = /^(\d+)([smhd])$/.exec(value);
  if (!d) throw new UsageError(`--${name} takes a number and a unit: 90s, 30m, 2h, 1d`);
  return Number(d[1]) * UNITS[d[2]];
}

/** Digits only: `1e20` and `2.0` parse as whole numbers, the first beyond what is counted exactly. */
export function positiveInt(value: string, name: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive whole number`);
  return n;
}
