import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApiProblems } from './support/k8s-openapi';
import { parseQuantity, validateObject } from './support/k8s-schema';
import { containersOf, type K8sObject, kustomizeBuild, podSpecOf, readObjects, splitImage } from './support/kustomize';
import { buildsProviderAdapters, PROVIDER_SIM, REPO, requiredEnv, SERVICES } from './support/services';

const OVERLAYS = {
  dev: { namespace: 'reelay-dev', tag: 'dev' },
  prod: { namespace: 'reelay', tag: '0.1.0' },
} as const;
type Overlay = keyof typeof OVERLAYS;

const rendered = Object.fromEntries(Object.keys(OVERLAYS).map((o) => [o, kustomizeBuild(join(REPO, 'k8s/overlays', o))])) as Record<Overlay, K8sObject[]>;
const WORKERS = ['intake', 'dispatch', 'polling', 'notification'];
const STORAGE_USERS = ['gateway', 'intake', 'dispatch', 'polling'];

function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind}/${name}`);
  return o;
}
const ofKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);
const selects = (selector: Record<string, string>, labels: Record<string, string> = {}) => Object.entries(selector).every(([k, v]) => labels[k] === v);
const workloads = (objects: K8sObject[]) => objects.filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind));
const appContainer = (d: K8sObject) => d.spec.template.spec.containers[0];

/** The config the reelay ConfigMap gives (found by its generated name through envFrom). */
function reelayConfig(objects: K8sObject[]): Record<string, string> {
  const ref = appContainer(find(objects, 'Deployment', 'gateway')).envFrom.find((e: { configMapRef?: unknown }) => e.configMapRef).configMapRef.name;
  return find(objects, 'ConfigMap', ref).data;
}

/** Variable names a container receives: envFrom ConfigMaps (resolved) and Secrets (keys of the example), plus env. */
function envNames(objects: K8sObject[], container: K8sObject['spec']): Set<string> {
  const names = new Set<string>((container.env ?? []).map((e: { name: string }) => e.name));
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) for (const k of Object.keys(find(objects, 'ConfigMap', from.configMapRef.name).data)) names.add(k);
  }
  return names;
}

const exampleSecrets = readObjects(join(REPO, 'k8s/base/secret.example.yaml'));

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}
const labelSelects = (sel: LabelSelector, labels: Record<string, string> = {}) =>
  selects(sel.matchLabels ?? {}, labels) &&
  (sel.matchExpressions ?? []).every((e) =>
    e.operator === 'In' ? e.values!.includes(labels[e.key]!) : e.operator === 'NotIn' ? !e.values!.includes(labels[e.key]!) : e.operator === 'Exists' ? e.key in labels : !(e.key in labels));

/** A workload's pod labels and its named container ports. */
function podOf(objects: K8sObject[], name: string) {
  const w = workloads(objects).find((o) => o.metadata.name === name);
  if (!w) throw new Error(`no workload ${name}`);
  const ports = new Map<string, number>(containersOf(podSpecOf(w)!).flatMap((c: K8sObject['spec']) => (c.ports ?? []).map((p: { name: string; containerPort: number }) => [p.name, p.containerPort])));
  return { labels: w.spec.template.metadata.labels as Record<string, string>, ports };
}
type Peer = { podSelector?: LabelSelector; namespaceSelector?: unknown; ipBlock?: unknown };
type Rule = { from?: Peer[]; to?: Peer[]; ports?: { port: string | number; protocol?: string }[] };

/**
 * Whether the namespace's NetworkPolicies let `from` open a TCP connection to `to` on `port`, by the
 * Kubernetes rules: a pod selected by no policy of a direction allows all of it; one selected by any
 * allows only what some rule of those policies admits (peers in the same namespace by podSelector;
 * a rule without peers or ports admits any). Both ends must allow it (egress of one, ingress of the other).
 */
function allowed(objects: K8sObject[], from: string, to: string, port: number | 'dns'): boolean {
  const src = podOf(objects, from);
  const dst = to === 'dns' ? null : podOf(objects, to);
  const portNumber = (p: string | number, target: ReturnType<typeof podOf> | null) => (typeof p === 'number' ? p : target?.ports.get(p));
  const wanted = port === 'dns' ? 53 : port;
  const ruleAdmits = (rule: Rule, peers: Peer[] | undefined, peerLabels: Record<string, string> | null, portsOf: ReturnType<typeof podOf> | null) =>
    (!peers || peers.some((p) => (p.podSelector && !p.namespaceSelector && peerLabels ? labelSelects(p.podSelector, peerLabels) : false))) &&
    (!rule.ports || rule.ports.some((p) => portNumber(p.port, portsOf) === wanted));
  const side = (type: 'Ingress' | 'Egress', pod: ReturnType<typeof podOf>, other: Record<string, string> | null, portsOf: ReturnType<typeof podOf> | null) => {
    const policies = ofKind(objects, 'NetworkPolicy').filter((p) => p.spec.policyTypes.includes(type) && labelSelects(p.spec.podSelector, pod.labels));
    if (policies.length === 0) return true;
    return policies.some((p) => ((type === 'Ingress' ? p.spec.ingress : p.spec.egress) ?? []).some((r: Rule) => ruleAdmits(r, type === 'Ingress' ? r.from : r.to, other, portsOf)));
  };
  return side('Egress', src, dst?.labels ?? null, dst) && (dst === null || side('Ingress', dst, src.labels, dst));
}

/** Provider names registered in libs/providers (each `<provider>/<provider>-factory.ts` names one). */
function registeredProviders(): string[] {
  const dir = join(REPO, 'libs/providers/src');
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => readdirSync(join(dir, d.name)).filter((f) => f.endsWith('-factory.ts')).map((f) => join(dir, d.name, f)))
    .map((file) => /name: '([a-z]+)'/.exec(readFileSync(file, 'utf8'))?.[1])
    .filter((n): n is string => Boolean(n));
}

describe('k8s base', () => {
  // The base is applied only through an overlay, but `kubectl apply -k k8s/base` must not be
  // rejected either; the example Secret is applied by hand from the same folder.
  const base = kustomizeBuild(join(REPO, 'k8s/base'));

  it('renders objects that each validate against the Kubernetes OpenAPI schema of their kind', () => {
    expect(base.length).toBeGreaterThan(20);
    expect(base.flatMap(openApiProblems)).toEqual([]);
  });

  it('the schema check fails a rendered Deployment once it is broken', () => {
    const broken = structuredClone(find(base, 'Deployment', 'gateway'));
    broken.spec.replicas = 'two';
    delete broken.spec.template.spec.containers[0].name;
    expect(openApiProblems(broken)).toEqual([
      'Deployment/gateway (apps/v1) /spec/replicas: must be integer',
      'Deployment/gateway (apps/v1) /spec/template/spec/containers/0: must have required property name',
    ]);
  });

  it('documents Secrets that validate against the Secret schema', () => {
    expect(exampleSecrets.length).toBeGreaterThan(0);
    expect(exampleSecrets.flatMap(openApiProblems)).toEqual([]);
  });

  it('gives every signing secret of the example a placeholder each service reading it refuses (shorter than its minimum)', () => {
    const values: Record<string, string> = find(exampleSecrets, 'Secret', 'reelay-secrets').stringData;
    const signing = ['WEBHOOK_MASTER_SECRET', 'ASSET_URL_SECRET', 'JOB_TOKEN_SECRET'];
    // The rotation's old secret is off unless set: empty in the example (the services read '' as unset).
    expect(values.WEBHOOK_MASTER_SECRET_PREVIOUS).toBe('');
    const checked = new Set<string>();
    const accepted: string[] = [];
    for (const service of SERVICES) {
      for (const line of readFileSync(join(REPO, service.configFile), 'utf8').split('\n')) {
        const [, name, min] = /^ {2}([A-Z_]+):.*\.min\((\d+)/.exec(line) ?? [];
        if (!name || !signing.includes(name) || values[name] === undefined) continue;
        checked.add(name);
        if (values[name].length >= Number(min)) accepted.push(`${service.name} would start with the example's ${name}`);
      }
    }
    expect(accepted).toEqual([]);
    expect(checked).toEqual(new Set(signing));
  });
});

describe.each(Object.keys(OVERLAYS) as Overlay[])('k8s overlay %s', (overlay) => {
  const objects = rendered[overlay];
  const { namespace, tag } = OVERLAYS[overlay];
  const deployments = ofKind(objects, 'Deployment');

  it('renders objects that pass the structural schema check', () => {
    expect(objects.length).toBeGreaterThan(20);
    expect(objects.flatMap(validateObject)).toEqual([]);
  });

  it('renders objects that each validate against the Kubernetes OpenAPI schema of their kind', () => {
    expect(objects.flatMap(openApiProblems)).toEqual([]);
  });

  it('puts everything in its namespace, which it creates', () => {
    expect(find(objects, 'Namespace', namespace)).toBeDefined();
    for (const o of objects.filter((x) => x.kind !== 'Namespace')) expect(`${o.kind}/${o.metadata.name} ${o.metadata.namespace}`).toBe(`${o.kind}/${o.metadata.name} ${namespace}`);
    for (const o of objects) expect(o.metadata.labels?.['app.kubernetes.io/part-of']).toBe('reelay');
  });

  it('has a Deployment and a Service per app, running its own image at the overlay tag', () => {
    for (const name of [...SERVICES.map((s) => s.name), PROVIDER_SIM.name]) {
      const d = find(objects, 'Deployment', name);
      find(objects, 'Service', name);
      expect(splitImage(appContainer(d).image)).toEqual({ name: `reelay/${name}`, tag, digest: undefined });
    }
    expect(splitImage(find(objects, 'Job', 'migrate').spec.template.spec.containers[0].image).tag).toBe(tag);
  });

  describe.each(SERVICES)('Deployment $name', (service) => {
    const d = () => find(objects, 'Deployment', service.name);

    it('probes /health/live (liveness, startup) and /health/ready (readiness) on its port', () => {
      const c = appContainer(d());
      expect(c.ports).toEqual([{ name: 'http', containerPort: service.port, protocol: 'TCP' }]);
      expect(c.livenessProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
      expect(c.startupProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
      expect(c.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 'http' });
    });

    it('gets every variable its config schema needs, secrets through secretKeyRef', () => {
      const c = appContainer(d());
      const names = envNames(objects, c);
      for (const v of requiredEnv(service)) expect(`${service.name}: ${v} ${names.has(v)}`).toBe(`${service.name}: ${v} true`);
      expect(c.env.find((e: { name: string }) => e.name === service.portVar).value).toBe(String(service.port));
      for (const secret of ['DATABASE_URL', 'WEBHOOK_MASTER_SECRET', 'ASSET_URL_SECRET']) {
        const e = c.env.find((x: { name: string }) => x.name === secret);
        if (e) expect(e.valueFrom.secretKeyRef).toMatchObject({ name: 'reelay-secrets', key: secret });
      }
      if (buildsProviderAdapters(service)) {
        // Provider keys come from an optional Secret; a provider is reachable via the simulator or the local renderer.
        expect(c.envFrom).toContainEqual({ secretRef: { name: 'reelay-provider-keys', optional: true } });
        expect(names.has('PROVIDER_SIM_URL') || names.has('LOCAL_RENDERER_BASE_URL')).toBe(true);
      }
    });
  });

  it('gives every Deployment resources, a non-root read-only security context and an emptyDir /tmp', () => {
    for (const d of deployments) {
      const pod = d.spec.template.spec;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      expect(pod.automountServiceAccountToken).toBe(false);
      for (const c of pod.containers) {
        expect(c.securityContext).toEqual({ runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
        for (const r of ['cpu', 'memory']) {
          const request = parseQuantity(c.resources.requests[r])!;
          const limit = parseQuantity(c.resources.limits[r])!;
          expect(request).toBeGreaterThan(0);
          expect(limit).toBeGreaterThanOrEqual(request);
        }
        const tmp = c.volumeMounts.find((m: { mountPath: string }) => m.mountPath === '/tmp');
        expect(pod.volumes.find((v: { name: string }) => v.name === tmp?.name)?.emptyDir).toBeDefined();
      }
    }
  });

  it('every workload selector matches its pod template, and every Service and PDB selects pods that exist', () => {
    for (const w of workloads(objects).filter((x) => x.kind !== 'Job')) expect(selects(w.spec.selector.matchLabels, w.spec.template.metadata.labels)).toBe(true);
    const podLabels = workloads(objects).map((w) => w.spec.template.metadata.labels);
    for (const s of ofKind(objects, 'Service')) {
      const pods = workloads(objects).filter((w) => selects(s.spec.selector, w.spec.template.metadata.labels));
      expect(`${s.metadata.name}: ${pods.length}`).toBe(`${s.metadata.name}: 1`);
      // Named target ports exist on the selected pods' containers.
      const ports = new Set(containersOf(podSpecOf(pods[0])).flatMap((c) => (c.ports ?? []).map((p: { name: string }) => p.name)));
      for (const p of s.spec.ports) if (typeof p.targetPort === 'string') expect(ports.has(p.targetPort)).toBe(true);
    }
    for (const pdb of ofKind(objects, 'PodDisruptionBudget')) expect(podLabels.some((l) => selects(pdb.spec.selector.matchLabels, l))).toBe(true);
  });

  it('has a PodDisruptionBudget for every Deployment and for NATS', () => {
    for (const w of [...deployments, find(objects, 'StatefulSet', 'nats')]) {
      expect(ofKind(objects, 'PodDisruptionBudget').some((p) => selects(p.spec.selector.matchLabels, w.spec.template.metadata.labels))).toBe(true);
    }
  });

  it('autoscales the workers (autoscaling/v2 on CPU), each HPA targeting an existing Deployment whose replicas lie within its bounds', () => {
    const hpas = ofKind(objects, 'HorizontalPodAutoscaler');
    expect(hpas.map((h) => h.spec.scaleTargetRef.name).sort()).toEqual([...WORKERS].sort());
    for (const h of hpas) {
      const d = find(objects, h.spec.scaleTargetRef.kind, h.spec.scaleTargetRef.name);
      expect(h.spec.scaleTargetRef.apiVersion).toBe(d.apiVersion);
      // The HPA owns the count: a replicas field would be set back by every apply, undoing the scaling.
      expect(d.spec.replicas).toBeUndefined();
      expect(h.spec.minReplicas).toBeGreaterThanOrEqual(1);
      expect(h.spec.metrics[0].resource.name).toBe('cpu');
      // Utilization is relative to requests, so the target must have CPU requests.
      expect(appContainer(d).resources.requests.cpu).toBeDefined();
    }
  });

  it('admits traffic from outside the namespace to the gateway only (default-deny ingress)', () => {
    const policies = ofKind(objects, 'NetworkPolicy');
    expect(policies.some((p) => Object.keys(p.spec.podSelector).length === 0 && p.spec.policyTypes.includes('Ingress') && !p.spec.ingress)).toBe(true);
    const gatewayLabels = find(objects, 'Deployment', 'gateway').spec.template.metadata.labels;
    for (const p of policies) {
      const fromOutside = (p.spec.ingress ?? []).some(
        (rule: { from?: Record<string, unknown>[] }) => !rule.from || rule.from.length === 0 || rule.from.some((peer) => peer.namespaceSelector !== undefined || peer.ipBlock !== undefined),
      );
      if (!fromOutside) continue;
      const selected = workloads(objects).filter((w) => selects(p.spec.podSelector.matchLabels ?? {}, w.spec.template.metadata.labels));
      expect(selected.map((w) => w.metadata.name)).toEqual(['gateway']);
      expect(selects(p.spec.podSelector.matchLabels, gatewayLabels)).toBe(true);
    }
  });

  it('lets only reelay\'s own processes reach PostgreSQL and NATS, NATS servers reach each other, and the HTTP ports take the namespace', () => {
    const apps = [...SERVICES.map((s) => s.name), 'provider-sim'];
    for (const app of SERVICES.map((s) => s.name)) {
      expect(`${app} → postgres ${allowed(objects, app, 'postgres', 5432)}`).toBe(`${app} → postgres true`);
      expect(`${app} → nats ${allowed(objects, app, 'nats', 4222)}`).toBe(`${app} → nats true`);
      expect(`${app} → dns ${allowed(objects, app, 'dns', 'dns')}`).toBe(`${app} → dns true`);
    }
    expect(allowed(objects, 'migrate', 'postgres', 5432)).toBe(true);
    expect(allowed(objects, 'nats', 'nats', 6222)).toBe(true);
    expect(allowed(objects, 'nats', 'dns', 'dns')).toBe(true);
    expect(allowed(objects, 'postgres', 'dns', 'dns')).toBe(true);
    for (const app of apps) for (const other of apps) expect(`${app} → ${other} ${allowed(objects, app, other, podOf(objects, other).ports.get('http')!)}`).toBe(`${app} → ${other} true`);
    // Refused: the simulator (ffmpeg on prompts) to the database or the bus; the migration to NATS;
    // PostgreSQL and NATS to anything but DNS and NATS' peers (the services' HTTP ports among them).
    expect(allowed(objects, 'provider-sim', 'postgres', 5432)).toBe(false);
    expect(allowed(objects, 'provider-sim', 'nats', 4222)).toBe(false);
    expect(allowed(objects, 'provider-sim', 'nats', 6222)).toBe(false);
    expect(allowed(objects, 'gateway', 'nats', 6222)).toBe(false);
    expect(allowed(objects, 'migrate', 'nats', 4222)).toBe(false);
    expect(allowed(objects, 'postgres', 'gateway', 3000)).toBe(false);
    expect(allowed(objects, 'nats', 'gateway', 3000)).toBe(false);
    expect(allowed(objects, 'nats', 'postgres', 5432)).toBe(false);
  });

  it('pulls a reelay image on every start when its tag is not a release (the dev tag moves), else when missing', () => {
    for (const d of deployments) {
      const c = appContainer(d);
      if (!c.image.startsWith('reelay/')) continue;
      const release = /:\d+\.\d+\.\d+$|@sha256:/.test(c.image);
      expect(`${d.metadata.name} ${c.image} ${c.imagePullPolicy}`).toBe(`${d.metadata.name} ${c.image} ${release ? 'IfNotPresent' : 'Always'}`);
    }
  });

  it('runs NATS as a 3-server JetStream cluster on persistent volumes', () => {
    const nats = find(objects, 'StatefulSet', 'nats');
    expect(nats.spec.replicas).toBe(3);
    expect(nats.spec.volumeClaimTemplates.map((t: K8sObject) => t.metadata.name)).toEqual(['data']);
    const headless = find(objects, 'Service', nats.spec.serviceName);
    expect(headless.spec.clusterIP).toBe('None');
    expect(headless.spec.publishNotReadyAddresses).toBe(true);

    const configName = nats.spec.template.spec.volumes.find((v: { configMap?: unknown }) => v.configMap).configMap.name;
    const conf: string = find(objects, 'ConfigMap', configName).data['nats.conf'];
    expect(conf).toMatch(/jetstream\s*\{[^}]*store_dir:\s*\/data/);
    const clusterPort = /cluster\s*\{[\s\S]*?port:\s*(\d+)/.exec(conf)![1];
    const routes = [...conf.matchAll(/nats:\/\/([\w.-]+):(\d+)/g)].map((m) => `${m[1]}:${m[2]}`);
    expect(routes).toEqual([0, 1, 2].map((i) => `nats-${i}.${headless.metadata.name}:${clusterPort}`));
    expect(headless.spec.ports.map((p: { port: number }) => String(p.port))).toContain(clusterPort);
    const mounts = nats.spec.template.spec.containers[0].volumeMounts;
    expect(mounts).toContainEqual({ name: 'data', mountPath: '/data' });
    expect(nats.spec.template.spec.containers[0].livenessProbe.httpGet.path).toContain('js-enabled-only=true');
  });

  it('points the services at NATS and PostgreSQL Services that exist, with stream replicas the cluster can hold', () => {
    const config = reelayConfig(objects);
    const natsUrl = new URL(config.NATS_URL);
    const natsService = find(objects, 'Service', natsUrl.hostname);
    expect(natsService.spec.ports.map((p: { port: number }) => String(p.port))).toContain(natsUrl.port);
    expect(Number(config.NATS_REPLICAS)).toBeLessThanOrEqual(find(objects, 'StatefulSet', 'nats').spec.replicas);

    const postgres = find(objects, 'StatefulSet', 'postgres');
    expect(postgres.spec.volumeClaimTemplates).toHaveLength(1);
    expect(find(objects, 'Service', postgres.spec.serviceName).spec.ports[0].port).toBe(5432);
  });

  it('keeps every replica’s PostgreSQL sessions within max_connections, at the HPAs’ maximum and during a rolling update', () => {
    const pool = Number(reelayConfig(objects).DB_POOL_SIZE);
    const args: string[] = find(objects, 'StatefulSet', 'postgres').spec.template.spec.containers[0].args;
    const maxConnections = Number(args[args.indexOf('-c') + 1].split('=')[1]);
    const hpas = ofKind(objects, 'HorizontalPodAutoscaler');
    const sessions = SERVICES.reduce((sum, s) => {
      const d = find(objects, 'Deployment', s.name);
      const pods = (hpas.find((h) => h.spec.scaleTargetRef.name === s.name)?.spec.maxReplicas ?? d.spec.replicas) + Number(d.spec.strategy?.rollingUpdate?.maxSurge ?? 1);
      const main = readFileSync(join(REPO, 'apps', s.name, 'src/main.ts'), 'utf8');
      // Beside the pool: the readiness probe's session, the relay's leader-lock session, and dispatch's submit-lock session.
      const own = pool + 1 + (/relay: true/.test(main) ? 1 : 0) + (/new SubmitLocks\(/.test(main) ? 1 : 0);
      return sum + pods * own;
    }, 0);
    const oneShots = 2 + 2; // the migration Job's pool, and the operator CLI's (run in a gateway pod)
    const reservedForSuperuser = 3;
    expect(sessions + oneShots).toBeLessThanOrEqual(maxConnections - reservedForSuperuser);
  });

  it('runs the migration as a Job with the services’ DATABASE_URL', () => {
    const job = find(objects, 'Job', 'migrate');
    const c = job.spec.template.spec.containers[0];
    expect(c.command).toEqual(['node', 'libs/event-store/dist/cli/migrate.js']);
    expect(c.env).toContainEqual({ name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'reelay-secrets', key: 'DATABASE_URL' } } });
    expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
  });

  it('mounts the shared storage at STORAGE_DIR in gateway, intake, dispatch and polling', () => {
    const dir = reelayConfig(objects).STORAGE_DIR;
    find(objects, 'PersistentVolumeClaim', 'reelay-storage');
    for (const d of deployments) {
      const pod = d.spec.template.spec;
      const claim = pod.volumes.find((v: { persistentVolumeClaim?: { claimName: string } }) => v.persistentVolumeClaim?.claimName === 'reelay-storage');
      const mount = claim && appContainer(d).volumeMounts.find((m: { name: string }) => m.name === claim.name);
      expect(`${d.metadata.name}: ${mount?.mountPath ?? 'none'}`).toBe(`${d.metadata.name}: ${STORAGE_USERS.includes(d.metadata.name) ? dir : 'none'}`);
    }
  });

  it('refers only to Secrets and keys the example documents, and to ConfigMaps that are rendered', () => {
    for (const w of workloads(objects)) {
      for (const c of containersOf(podSpecOf(w))) {
        for (const e of c.env ?? []) {
          const ref = e.valueFrom?.secretKeyRef;
          if (ref) expect(exampleSecrets.find((s) => s.metadata.name === ref.name)?.stringData?.[ref.key]).toBeDefined();
          const cm = e.valueFrom?.configMapKeyRef;
          if (cm) expect(find(objects, 'ConfigMap', cm.name).data[cm.key]).toBeDefined();
        }
        for (const from of c.envFrom ?? []) {
          if (from.configMapRef) find(objects, 'ConfigMap', from.configMapRef.name);
          if (from.secretRef) expect(exampleSecrets.some((s) => s.metadata.name === from.secretRef.name)).toBe(true);
        }
      }
      for (const v of podSpecOf(w).volumes ?? []) if (v.configMap) find(objects, 'ConfigMap', v.configMap.name);
    }
  });

  it('never points real provider keys at the simulator outside dev', () => {
    const config = reelayConfig(objects);
    if (overlay === 'dev') expect(config.PROVIDER_SIM_URL).toBe(`http://${PROVIDER_SIM.name}:${PROVIDER_SIM.port}`);
    else expect(config.PROVIDER_SIM_URL).toBeUndefined();
    expect(config.LOCAL_RENDERER_BASE_URL).toBe(`http://${PROVIDER_SIM.name}:${PROVIDER_SIM.port}/local/v1`);
    expect(config.PROVIDERS_ENABLED).not.toBe('');
  });
});

describe('overlay differences', () => {
  const { dev, prod } = rendered;

  it('dev offers every registered provider through the simulator, whose callbacks reach the gateway Service', () => {
    const config = reelayConfig(dev);
    expect(config.PROVIDERS_ENABLED.split(',').sort()).toEqual(registeredProviders().sort());
    const gateway = find(dev, 'Service', 'gateway');
    expect(config.PUBLIC_BASE_URL).toBe(`http://gateway:${gateway.spec.ports[0].port}`);
  });

  /** Replicas a Deployment starts with: its own count, or its HPA's minimum where the HPA owns the count. */
  const startingReplicas = (objects: K8sObject[], name: string) =>
    find(objects, 'Deployment', name).spec.replicas ?? ofKind(objects, 'HorizontalPodAutoscaler').find((h) => h.spec.scaleTargetRef.name === name)?.spec.minReplicas;

  it('dev runs one replica of each service with smaller requests than prod', () => {
    for (const d of ofKind(dev, 'Deployment')) expect(`${d.metadata.name}: ${startingReplicas(dev, d.metadata.name)}`).toBe(`${d.metadata.name}: 1`);
    for (const s of SERVICES) {
      const cpu = (objects: K8sObject[]) => parseQuantity(appContainer(find(objects, 'Deployment', s.name)).resources.requests.cpu)!;
      expect(cpu(dev)).toBeLessThan(cpu(prod));
    }
  });

  it('prod runs several replicas of every service (one provider-sim: its tasks live in memory)', () => {
    for (const s of SERVICES) expect(startingReplicas(prod, s.name)).toBeGreaterThanOrEqual(2);
    expect(find(prod, 'Deployment', PROVIDER_SIM.name).spec.replicas).toBe(1);
    expect(find(prod, 'Deployment', PROVIDER_SIM.name).spec.strategy.type).toBe('Recreate');
  });

  it('prod routes the API and its description on PUBLIC_BASE_URL\'s host over TLS to the gateway Service, and nothing else (no /metrics, no /health)', () => {
    const ingresses = ofKind(prod, 'Ingress');
    expect(ingresses.map((i) => i.metadata.name)).toEqual(['gateway']);
    const [ingress] = ingresses;
    const host = new URL(reelayConfig(prod).PUBLIC_BASE_URL).host;
    expect(new URL(reelayConfig(prod).PUBLIC_BASE_URL).protocol).toBe('https:');
    expect(ingress.spec.tls).toEqual([{ hosts: [host], secretName: 'reelay-tls' }]);
    expect(ingress.spec.rules.map((r: { host: string }) => r.host)).toEqual([host]);
    const paths = ingress.spec.rules[0].http.paths;
    expect(paths.map((p: { path: string; pathType: string }) => `${p.pathType} ${p.path}`)).toEqual(['Prefix /v1', 'Exact /openapi.json', 'Exact /docs', 'Exact /', 'Prefix /web']);
    const gateway = find(prod, 'Service', 'gateway');
    for (const p of paths) {
      expect(p.backend.service.name).toBe('gateway');
      expect(gateway.spec.ports.map((port: { name: string }) => port.name)).toContain(p.backend.service.port.name);
    }
    // The gateway's default ASSET_MAX_BYTES (10 MiB) inline as base64 in a JSON body (plus its 256 KiB for the rest) passes the proxy; streams are not buffered.
    expect(parseQuantity(`${ingress.metadata.annotations!['nginx.ingress.kubernetes.io/proxy-body-size'].replace(/m$/, 'Mi')}`)).toBeGreaterThan(Math.ceil((10 * 1024 * 1024) / 3) * 4 + 256 * 1024);
    expect(ingress.metadata.annotations!['nginx.ingress.kubernetes.io/proxy-buffering']).toBe('off');
    expect(ofKind(dev, 'Ingress')).toEqual([]);
  });

  it('prod sets NATS_REPLICAS=3 so every stream is on all three servers; dev keeps 1', () => {
    expect(reelayConfig(prod).NATS_REPLICAS).toBe('3');
    expect(reelayConfig(dev).NATS_REPLICAS).toBe('1');
  });

  it('prod asks for ReadWriteMany output storage; dev is fine with ReadWriteOnce on one node', () => {
    expect(find(prod, 'PersistentVolumeClaim', 'reelay-storage').spec.accessModes).toEqual(['ReadWriteMany']);
    expect(find(dev, 'PersistentVolumeClaim', 'reelay-storage').spec.accessModes).toEqual(['ReadWriteOnce']);
  });

  it('prod commits no Secret; dev’s placeholders are marked as such', () => {
    expect(ofKind(prod, 'Secret')).toEqual([]);
    const devSecrets = ofKind(dev, 'Secret');
    expect(devSecrets.map((s) => s.metadata.name)).toEqual(['reelay-secrets']);
    for (const v of Object.values(devSecrets[0].stringData) as string[]) expect(v).toContain('dev-only');
    // The dev DATABASE_URL matches the dev PostgreSQL password and Service.
    const url = new URL(devSecrets[0].stringData.DATABASE_URL);
    expect(decodeURIComponent(url.password)).toBe(devSecrets[0].stringData.POSTGRES_PASSWORD);
    expect(url.hostname).toBe(find(dev, 'StatefulSet', 'postgres').spec.serviceName);
  });

  it('a config change renames the generated ConfigMap, so Deployments roll', () => {
    expect(reelayConfig(dev)).not.toEqual(reelayConfig(prod));
    const name = (objects: K8sObject[]) => appContainer(find(objects, 'Deployment', 'gateway')).envFrom[0].configMapRef.name;
    expect(name(dev)).toMatch(/^reelay-config-[0-9a-f]{10}$/);
    expect(name(dev)).not.toBe(name(prod));
  });
});
