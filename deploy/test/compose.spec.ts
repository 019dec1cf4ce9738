import { parse } from 'yaml';
import { effectiveEnv, parseDockerfile, stageChain } from './support/dockerfile';
import { buildsProviderAdapters, PROVIDER_SIM, readRepoFile, requiredEnv, SERVICES } from './support/services';

interface ComposeService {
  image?: string;
  build?: { target?: string };
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number };
  container_name?: string;
  profiles?: string[];
  restart?: string;
}

// Compose files use YAML merge keys (`<<`) for the shared blocks.
const compose = parse(readRepoFile('docker-compose.yml'), { merge: true }) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> };
const services = compose.services;
const svc = (name: string): ComposeService => {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
};
const ONE_SHOT = ['migrate', 'ops-cli'];
const LONG_RUNNING = Object.keys(services).filter((n) => !ONE_SHOT.includes(n));
const healthTest = (name: string) => svc(name).healthcheck!.test.join(' ');
const mountOf = (name: string, volume: string) => svc(name).volumes?.find((v) => v.startsWith(`${volume}:`))?.split(':')[1];
const urlHost = (url: string) => new URL(url.replace(/\$\{[^}]+\}/g, 'x')).host;

describe('docker-compose.yml', () => {
  it('has the infrastructure, the migration, the simulator and every service', () => {
    expect(Object.keys(services).sort()).toEqual(['dispatch', 'gateway', 'intake', 'migrate', 'nats', 'notification', 'ops-cli', 'polling', 'postgres', 'provider-sim'].sort());
  });

  it.each(LONG_RUNNING)('%s has a health check', (name) => {
    expect(svc(name).healthcheck?.test?.length).toBeGreaterThan(1);
    expect(['CMD', 'CMD-SHELL']).toContain(svc(name).healthcheck!.test[0]);
  });

  it.each(SERVICES.map((s) => s.name))('%s is healthy only when ready (/health/ready)', (name) => {
    expect(svc(name).healthcheck!.test).toEqual(['CMD', 'healthcheck', '/health/ready']);
  });

  it('checks NATS (JetStream) on its monitoring port, PostgreSQL with pg_isready and the simulator on /_sim/health', () => {
    expect(healthTest('nats')).toMatch(/http:\/\/127\.0\.0\.1:8222\/healthz/);
    expect(svc('nats').command).toEqual(expect.arrayContaining(['-js', '-sd', '/data', '-m', '8222']));
    // Over TCP (-h): the image's init-time server answers on the socket before migrate can connect.
    expect(healthTest('postgres')).toMatch(/^CMD-SHELL pg_isready -h 127\.0\.0\.1 /);
    expect(healthTest(PROVIDER_SIM.name)).toContain(PROVIDER_SIM.healthPath);
  });

  it('runs NATS 2.10 and PostgreSQL 16 on named volumes', () => {
    expect(svc('nats').image).toBe('nats:2.10-alpine');
    expect(svc('postgres').image).toMatch(/^postgres:16(-|$)/);
    expect(mountOf('nats', 'nats-data')).toBe('/data');
    expect(mountOf('postgres', 'postgres-data')).toBe('/var/lib/postgresql/data');
    expect(Object.keys(compose.volumes)).toEqual(expect.arrayContaining(['nats-data', 'postgres-data', 'storage']));
  });

  describe('start order', () => {
    it.each(SERVICES.map((s) => s.name))('%s waits for healthy PostgreSQL and NATS and for the migration to finish', (name) => {
      expect(svc(name).depends_on).toMatchObject({
        postgres: { condition: 'service_healthy' },
        nats: { condition: 'service_healthy' },
        migrate: { condition: 'service_completed_successfully' },
      });
    });

    it('the migration waits for a healthy PostgreSQL and runs once', () => {
      expect(svc('migrate').depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
      expect(svc('migrate').restart).toBe('no');
      expect(svc('migrate').healthcheck).toBeUndefined();
    });

    it('the services that submit to or poll providers wait for a healthy simulator', () => {
      for (const name of ['dispatch', 'polling']) expect(svc(name).depends_on![PROVIDER_SIM.name]).toEqual({ condition: 'service_healthy' });
    });

    it('every dependency uses a condition its target can meet, and there is no cycle', () => {
      for (const [name, s] of Object.entries(services)) {
        for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
          expect(services[dep]).toBeDefined();
          if (condition === 'service_healthy') expect(svc(dep).healthcheck).toBeDefined();
          else expect({ name, dep, condition }).toEqual({ name, dep, condition: 'service_completed_successfully' });
          if (condition === 'service_completed_successfully') expect(ONE_SHOT).toContain(dep);
        }
      }
      const order = startOrder();
      const at = (n: string) => order.indexOf(n);
      for (const s of SERVICES) {
        expect(at('postgres')).toBeLessThan(at('migrate'));
        expect(at('migrate')).toBeLessThan(at(s.name));
        expect(at('nats')).toBeLessThan(at(s.name));
      }
    });
  });

  describe('environment', () => {
    it.each(SERVICES)('$name gets every variable its config schema needs in a container', (service) => {
      const env = svc(service.name).environment ?? {};
      const needed = requiredEnv(service);
      expect(needed).toEqual(expect.arrayContaining(['DATABASE_URL', 'NATS_URL', service.portVar]));
      expect(Object.keys(env)).toEqual(expect.arrayContaining(needed));
      expect(env[service.portVar]).toBe(String(service.port));
      expect(urlHost(env.DATABASE_URL)).toBe('postgres:5432');
      expect(urlHost(env.NATS_URL)).toBe('nats:4222');
    });

    it.each(['migrate', 'ops-cli', ...SERVICES.map((s) => s.name)])('%s gets the PostgreSQL password beside the URL, so any character in it works', (name) => {
      const env = svc(name).environment ?? {};
      expect(new URL(env.DATABASE_URL!).password).toBe('');
      expect(env.PGPASSWORD).toBe(svc('postgres').environment!.POSTGRES_PASSWORD);
    });

    it('the schema-derived lists include the known required settings', () => {
      const byName = Object.fromEntries(SERVICES.map((s) => [s.name, requiredEnv(s)]));
      expect(byName.notification).toContain('WEBHOOK_MASTER_SECRET'); // required in its schema
      expect(byName.gateway).toEqual(expect.arrayContaining(['STORAGE_DIR', 'WEBHOOK_MASTER_SECRET']));
      expect(byName.polling).toContain('STORAGE_DIR');
      expect(byName.intake).toContain('STORAGE_DIR');
      expect(byName.dispatch).toContain('PUBLIC_BASE_URL');
    });

    it.each(SERVICES.filter(buildsProviderAdapters))('$name (builds provider adapters) is pointed at the simulator', (service) => {
      const env = svc(service.name).environment!;
      expect(urlHost(env.PROVIDER_SIM_URL)).toBe(`${PROVIDER_SIM.name}:${PROVIDER_SIM.port}`);
      expect(env.PROVIDERS_ENABLED).toBeTruthy();
    });

    it('the simulator listens on all interfaces and hands out URLs other containers can reach', () => {
      const env = svc(PROVIDER_SIM.name).environment!;
      expect(env).toMatchObject({ PORT: String(PROVIDER_SIM.port), HOST: '0.0.0.0' });
      expect(urlHost(env.SIM_PUBLIC_URL)).toBe(`${PROVIDER_SIM.name}:${PROVIDER_SIM.port}`);
    });

    it('gateway, intake, dispatch and polling share STORAGE_DIR on one named volume', () => {
      const sharing = ['gateway', 'intake', 'dispatch', 'polling'];
      for (const name of sharing) {
        expect(mountOf(name, 'storage')).toBe(svc(name).environment!.STORAGE_DIR);
      }
      expect(new Set(sharing.map((n) => svc(n).environment!.STORAGE_DIR)).size).toBe(1);
    });

    it('dispatch signs asset links with the secret the gateway checks them with', () => {
      expect(svc('dispatch').environment!.ASSET_URL_SECRET).toBe(svc('gateway').environment!.ASSET_URL_SECRET);
      expect(svc('gateway').environment!.ASSET_URL_SECRET).toMatch(/^\$\{ASSET_URL_SECRET[:}]/);
    });

    it('the webhook master secret is the same for gateway and notification, and never a literal in the file', () => {
      const gateway = svc('gateway').environment!.WEBHOOK_MASTER_SECRET;
      expect(svc('notification').environment!.WEBHOOK_MASTER_SECRET).toBe(gateway);
      expect(gateway).toMatch(/^\$\{WEBHOOK_MASTER_SECRET:\?[^}]*\}$/);
    });

    it('NATS streams ask for no more replicas than there are NATS servers (one)', () => {
      for (const s of SERVICES) expect(svc(s.name).environment!.NATS_REPLICAS).toBe('1');
    });
  });

  it('runs two replicas of intake, dispatch and polling', () => {
    for (const name of ['intake', 'dispatch', 'polling']) {
      expect(svc(name).deploy?.replicas).toBe(2);
      expect(svc(name).container_name).toBeUndefined();
    }
  });

  it('publishes a port only for the gateway, to its GATEWAY_PORT', () => {
    const publishing = Object.entries(services).filter(([, s]) => s.ports?.length).map(([n]) => n);
    expect(publishing).toEqual(['gateway']);
    expect(svc('gateway').ports).toHaveLength(1);
    expect(svc('gateway').ports![0].split(':').at(-1)).toBe(svc('gateway').environment!.GATEWAY_PORT);
  });

  it('builds each reelay image from its Dockerfile target, whose health probe port matches the service port', () => {
    const { stages } = parseDockerfile(readRepoFile('Dockerfile'));
    for (const [name, s] of Object.entries(services)) {
      if (!s.build) continue;
      expect(s.build.target).toBe(name);
      const env = effectiveEnv(stageChain(stages, name));
      const service = SERVICES.find((x) => x.name === name);
      if (service) expect(env.HEALTH_PORT).toBe(s.environment![service.portVar]);
    }
  });

  it('keeps the operator CLI out of `docker compose up`', () => {
    expect(svc('ops-cli').profiles).toEqual(['tools']);
  });
});

/** A start order that respects depends_on (throws on a cycle). */
function startOrder(): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') throw new Error(`depends_on cycle through ${name}`);
    state.set(name, 'visiting');
    for (const dep of Object.keys(services[name].depends_on ?? {})) visit(dep);
    state.set(name, 'done');
    order.push(name);
  };
  Object.keys(services).forEach(visit);
  return order;
}
