import type { FlagSpec } from './args';
import type { CliContext } from './context';

export interface Command {
  /** Each sub-command by name, with the flags it takes. */
  subcommands: Readonly<Record<string, FlagSpec>>;
  /** Shown when the sub-command is missing or unknown. */
  usage: string;
  /** `args`: the sub-command, then the positional arguments after it. */
  run(ctx: CliContext, args: string[], options: Record<string, string>): Promise<void>;
}
