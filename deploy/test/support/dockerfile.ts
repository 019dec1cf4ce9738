/**
 * A Dockerfile reader for tests: instructions with line continuations joined and comments and
 * parser directives dropped, grouped into stages. Enough to check structure, not to build.
 */
export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

export interface Stage {
  name: string;
  /** The image or earlier stage it starts from (ARG defaults substituted). */
  from: string;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const instructions: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i];
    if (/^\s*(#.*)?$/.test(line)) continue;
    while (/\\\s*$/.test(line) && i + 1 < lines.length) {
      line = line.replace(/\\\s*$/, ' ');
      i++;
      // Comment lines inside a continued instruction are dropped, as docker does.
      if (/^\s*#/.test(lines[i])) {
        line += '\\';
        continue;
      }
      line += lines[i];
    }
    const m = /^\s*([A-Za-z]+)\s+([\s\S]*)$/.exec(line.trim());
    if (!m) throw new Error(`Dockerfile line ${start + 1}: cannot parse "${line}"`);
    instructions.push({ keyword: m[1].toUpperCase(), args: m[2].replace(/\s+/g, ' ').trim(), line: start + 1 });
  }

  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) throw new Error(`Dockerfile line ${ins.line}: bad FROM`);
      const from = m[1].replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string | undefined, b: string | undefined) => args[(a ?? b) as string] ?? '');
      stages.push({ name: m[2] ?? String(stages.length), from, instructions: [] });
    } else if (stages.length === 0) {
      if (ins.keyword !== 'ARG') throw new Error(`Dockerfile line ${ins.line}: only ARG may come before FROM`);
      const [name, value = ''] = ins.args.split('=');
      args[name] = value;
    } else {
      stages[stages.length - 1].instructions.push(ins);
    }
  }
  return { args, stages };
}

/** The stage and every stage it is built FROM, base first. */
export function stageChain(stages: Stage[], name: string): Stage[] {
  const stage = stages.find((s) => s.name === name);
  if (!stage) throw new Error(`no stage ${name}`);
  const parent = stages.find((s) => s.name === stage.from);
  return parent ? [...stageChain(stages, parent.name), stage] : [stage];
}

/** The last value an instruction has along a stage chain (what the image ends up with). */
export function effective(chain: Stage[], keyword: string): Instruction | undefined {
  return chain.flatMap((s) => s.instructions).filter((i) => i.keyword === keyword).at(-1);
}

/** ENV key=value pairs along a chain, later ones winning. */
export function effectiveEnv(chain: Stage[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const ins of chain.flatMap((s) => s.instructions)) {
    if (ins.keyword !== 'ENV') continue;
    for (const m of ins.args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) env[m[1]] = m[2].replace(/^"|"$/g, '');
  }
  return env;
}

/** Exec-form arguments of CMD/ENTRYPOINT/HEALTHCHECK CMD; throws on shell form. */
export function execForm(args: string): string[] {
  const json = args.slice(args.indexOf('['));
  const parsed: unknown = JSON.parse(json);
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) throw new Error(`not exec form: ${args}`);
  return parsed;
}
