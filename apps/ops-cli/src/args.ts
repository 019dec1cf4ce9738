/** `a b --x 1 --flag` → positional [a, b], options {x: '1', flag: 'true'}. */
export function parseArgs(argv: string[]): { positional: string[]; options: Record<string, string> } {
  const positional: string[] = [];
  const options: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg.startsWith('--')) {
      const [name, inline] = arg.slice(2).split('=', 2);
      if (inline !== undefined) options[name] = inline;
      else if (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) options[name] = argv[++i];
      else options[name] = 'true';
    } else positional.push(arg);
  }
  return { positional, options };
}

export class UsageError extends Error {}

export function required(options: Record<string, string>, name: string): string {
  const v = options[name];
  if (!v || v === 'true') throw new UsageError(`--${name} is required`);
  return v;
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** `90s`, `30m`, `2h`, `90d` → seconds. */
export function durationSeconds(value: string, name: string): number {
  const d = /^(\d+)([smhd])$/.exec(value);
  if (!d) throw new UsageError(`--${name} takes a number and a unit: 90s, 30m, 2h, 1d`);
  return Number(d[1]) * UNITS[d[2]];
}

export function positiveInt(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive whole number`);
  return n;
}
