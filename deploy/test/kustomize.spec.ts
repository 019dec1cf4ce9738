import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { kustomizeBuild, splitImage, strategicMerge } from './support/kustomize';

let root: string;
const write = (path: string, text: string) => {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
};

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'reelay-kustomize-'));
  write(
    'base/app.yaml',
    `apiVersion: apps/v1
kind: Deployment
metadata: { name: web, labels: { app: web } }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: app
          image: example/web:1
          envFrom: [{ configMapRef: { name: cfg } }]
          env: [{ name: A, value: "1" }, { name: B, value: "2" }]
        - name: sidecar
          image: registry.local:5000/side
`,
  );
  write(
    'base/kustomization.yaml',
    `resources: [app.yaml]
namespace: base-ns
configMapGenerator:
  - name: cfg
    literals: [X=1, Y=2]
`,
  );
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('kustomize subset renderer', () => {
  it('applies patches, namespace, labels, replicas, images and a merged generator in an overlay', () => {
    write('overlay/patch.yaml', 'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: ignored }\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          env: [{ name: B, value: "3" }, { name: C, value: "4" }]\n');
    write(
      'overlay/kustomization.yaml',
      `resources: [../base]
namespace: over
labels: [{ pairs: { tier: x }, includeSelectors: false, includeTemplates: true }]
replicas: [{ name: web, count: 5 }]
images: [{ name: example/web, newTag: "2" }, { name: registry.local:5000/side, newName: other/side, newTag: v }]
configMapGenerator: [{ name: cfg, behavior: merge, literals: [Y=3] }]
patches: [{ path: patch.yaml, target: { kind: Deployment } }]
`,
    );
    const [web, cfg] = kustomizeBuild(join(root, 'overlay'));
    expect(web.metadata).toMatchObject({ name: 'web', namespace: 'over', labels: { app: 'web', tier: 'x' } });
    expect(web.spec.replicas).toBe(5);
    expect(web.spec.selector.matchLabels).toEqual({ app: 'web' });
    expect(web.spec.template.metadata.labels).toEqual({ app: 'web', tier: 'x' });
    const [app, sidecar] = web.spec.template.spec.containers;
    expect(app.image).toBe('example/web:2');
    expect(sidecar.image).toBe('other/side:v');
    expect(app.env).toEqual([{ name: 'A', value: '1' }, { name: 'B', value: '3' }, { name: 'C', value: '4' }]);
    expect(cfg.data).toEqual({ X: '1', Y: '3' });
    expect(cfg.metadata.name).toMatch(/^cfg-[0-9a-f]{10}$/);
    expect(app.envFrom[0].configMapRef.name).toBe(cfg.metadata.name);
  });

  it('is deterministic, and the ConfigMap name follows its content', () => {
    const name = () => kustomizeBuild(join(root, 'base'))[1].metadata.name as string;
    const first = name();
    expect(name()).toBe(first);
    write('base/kustomization.yaml', 'resources: [app.yaml]\nconfigMapGenerator:\n  - name: cfg\n    literals: [X=1, Y=changed]\n');
    expect(name()).not.toBe(first);
  });

  it('refuses what it does not support and entries that match nothing', () => {
    write('a/kustomization.yaml', 'resources: [../base]\nnamePrefix: x-\n');
    expect(() => kustomizeBuild(join(root, 'a'))).toThrow(/namePrefix.*not supported/);
    write('b/kustomization.yaml', 'resources: [../base]\nimages: [{ name: nope, newTag: "1" }]\n');
    expect(() => kustomizeBuild(join(root, 'b'))).toThrow(/matches no container/);
    write('c/kustomization.yaml', 'resources: [../base]\nreplicas: [{ name: nope, count: 1 }]\n');
    expect(() => kustomizeBuild(join(root, 'c'))).toThrow(/matches no workload/);
    write('d/p.yaml', 'apiVersion: v1\nkind: Service\nmetadata: { name: nope }\nspec: {}\n');
    write('d/kustomization.yaml', 'resources: [../base]\npatches: [{ path: p.yaml }]\n');
    expect(() => kustomizeBuild(join(root, 'd'))).toThrow(/matches no object/);
    write('e/kustomization.yaml', 'resources: [../base/app.yaml, ../base/app.yaml]\n');
    expect(() => kustomizeBuild(join(root, 'e'))).toThrow(/defined twice/);
  });

  it('strategic merge: maps merge, null deletes, keyed lists merge, other lists are replaced', () => {
    const base = { a: { b: 1, c: 2 }, args: ['x', 'y'], containers: [{ name: 'n', image: 'i', x: 1 }] };
    strategicMerge(base, { a: { c: null, d: 3 }, args: ['z'], containers: [{ name: 'n', x: 2 }, { name: 'm', image: 'j' }] });
    expect(base).toEqual({ a: { b: 1, d: 3 }, args: ['z'], containers: [{ name: 'n', image: 'i', x: 2 }, { name: 'm', image: 'j' }] });
  });

  it('splits image references without mistaking a registry port for a tag', () => {
    expect(splitImage('registry.local:5000/side')).toEqual({ name: 'registry.local:5000/side', digest: undefined });
    expect(splitImage('nats:2.10-alpine')).toEqual({ name: 'nats', tag: '2.10-alpine', digest: undefined });
    expect(splitImage('a/b:1@sha256:abc')).toEqual({ name: 'a/b', tag: '1', digest: 'sha256:abc' });
  });
});
