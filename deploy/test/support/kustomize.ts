import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

/**
 * A small, offline subset of `kustomize build` — just the features k8s/ uses — so the overlays
 * can be rendered and checked in tests without a kustomize binary:
 *
 * - `resources` (files with one or more documents, and directories holding a kustomization)
 * - `namespace`, `labels` (pairs, includeSelectors, includeTemplates) and `commonLabels`
 * - `patches` (strategic merge; matched by kind+name, or by `target` kind/name)
 * - `images` (newName, newTag, digest), `replicas`
 * - `configMapGenerator` (literals; behavior create/merge/replace; content-hash name suffix with
 *   references in pod specs rewritten), `generatorOptions.disableNameSuffixHash`
 *
 * Transformers run in kustomize's order (patches, namespace, labels, replicas, images). It is
 * stricter than kustomize where that catches mistakes: an unknown kustomization field, an image
 * or replicas entry that matches nothing, a patch that matches nothing and duplicate objects all
 * throw. The hash suffix is deterministic but not byte-identical to kustomize's.
 */

// Kubernetes objects are open-ended JSON; the renderer reads and writes them structurally.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type K8sObject = Record<string, any> & { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> } };

const SUPPORTED_FIELDS = new Set([
  'apiVersion',
  'kind',
  'namespace',
  'resources',
  'labels',
  'commonLabels',
  'patches',
  'images',
  'replicas',
  'configMapGenerator',
  'generatorOptions',
]);

const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PersistentVolume', 'StorageClass', 'CustomResourceDefinition', 'PriorityClass']);
const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']);
const SCALABLE = new Set(['Deployment', 'StatefulSet', 'ReplicaSet']);

/** Strategic-merge keys for the lists the patches touch; other lists are replaced whole. */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
};

interface Generated {
  originalName: string;
  hashSuffix: boolean;
}

/** Generated ConfigMaps keep their original name here until the top level adds the hash. */
const generated = new WeakMap<K8sObject, Generated>();

/** Renders the kustomization in `dir` (like `kustomize build dir`). */
export function kustomizeBuild(dir: string): K8sObject[] {
  const objects = build(resolve(dir));
  return finalizeGenerated(objects);
}

function build(dir: string): K8sObject[] {
  const k = readKustomization(dir);
  for (const field of Object.keys(k)) {
    if (!SUPPORTED_FIELDS.has(field)) throw new Error(`${dir}: kustomization field "${field}" is not supported by this renderer`);
  }

  let objects: K8sObject[] = [];
  for (const entry of list<string>(k.resources)) {
    const path = join(dir, entry);
    if (!existsSync(path)) throw new Error(`${dir}: resource ${entry} does not exist`);
    objects.push(...(statSync(path).isDirectory() ? build(path) : readObjects(path)));
  }

  objects = applyConfigMapGenerators(objects, list(k.configMapGenerator), k.generatorOptions ?? {}, dir);
  assertUnique(objects, dir);

  for (const patch of list<{ path?: string; patch?: string; target?: { kind?: string; name?: string } }>(k.patches)) applyPatch(objects, patch, dir);
  if (k.namespace) setNamespace(objects, k.namespace);
  for (const set of list<{ pairs: Record<string, string>; includeSelectors?: boolean; includeTemplates?: boolean }>(k.labels)) {
    addLabels(objects, set.pairs, set.includeSelectors === true, set.includeTemplates === true);
  }
  if (k.commonLabels) addLabels(objects, k.commonLabels, true, true);
  for (const r of list<{ name: string; count: number }>(k.replicas)) setReplicas(objects, r, dir);
  for (const image of list<ImageEntry>(k.images)) setImage(objects, image, dir);
  return objects;
}

function readKustomization(dir: string): K8sObject {
  for (const name of ['kustomization.yaml', 'kustomization.yml', 'Kustomization']) {
    const path = join(dir, name);
    if (existsSync(path)) return readObjects(path, false)[0];
  }
  throw new Error(`${dir}: no kustomization.yaml`);
}

/** Every non-empty document of a YAML file; YAML errors throw with the file name. */
export function readObjects(path: string, requireKind = true): K8sObject[] {
  const docs = parseAllDocuments(readFileSync(path, 'utf8'));
  const out: K8sObject[] = [];
  for (const doc of docs) {
    if (doc.errors.length) throw new Error(`${path}: ${doc.errors[0].message}`);
    const value = doc.toJS();
    if (value == null) continue;
    if (requireKind && (typeof value.kind !== 'string' || typeof value.metadata?.name !== 'string')) {
      throw new Error(`${path}: every document needs kind and metadata.name`);
    }
    out.push(value);
  }
  return out;
}

function list<T>(value: unknown): T[] {
  if (value == null) return [];
  if (!Array.isArray(value)) throw new Error(`expected a list, got ${JSON.stringify(value)}`);
  return value as T[];
}

function idOf(o: K8sObject): string {
  return `${o.kind}/${o.metadata.namespace ?? '~'}/${o.metadata.name}`;
}

function assertUnique(objects: K8sObject[], dir: string): void {
  const seen = new Set<string>();
  for (const o of objects) {
    const id = idOf(o);
    if (seen.has(id)) throw new Error(`${dir}: ${id} is defined twice`);
    seen.add(id);
  }
}

// ---- configMapGenerator ------------------------------------------------------------------

interface ConfigMapGenerator {
  name: string;
  behavior?: 'create' | 'merge' | 'replace';
  literals?: string[];
  files?: unknown;
  envs?: unknown;
  options?: { disableNameSuffixHash?: boolean };
}

function applyConfigMapGenerators(objects: K8sObject[], generators: ConfigMapGenerator[], options: { disableNameSuffixHash?: boolean }, dir: string): K8sObject[] {
  for (const g of generators) {
    if (g.files || g.envs) throw new Error(`${dir}: configMapGenerator ${g.name}: only literals are supported`);
    const data: Record<string, string> = {};
    for (const literal of g.literals ?? []) {
      const at = literal.indexOf('=');
      if (at <= 0) throw new Error(`${dir}: configMapGenerator ${g.name}: bad literal "${literal}"`);
      data[literal.slice(0, at)] = literal.slice(at + 1);
    }
    const behavior = g.behavior ?? 'create';
    const existing = objects.find((o) => o.kind === 'ConfigMap' && generated.get(o)?.originalName === g.name);
    if (behavior === 'create') {
      if (existing) throw new Error(`${dir}: configMapGenerator ${g.name} already exists; use behavior merge or replace`);
      const cm: K8sObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: g.name }, data };
      generated.set(cm, { originalName: g.name, hashSuffix: !(g.options?.disableNameSuffixHash ?? options.disableNameSuffixHash ?? false) });
      objects.push(cm);
    } else {
      if (!existing) throw new Error(`${dir}: configMapGenerator ${g.name} (${behavior}) has no generated ConfigMap to ${behavior}`);
      existing.data = behavior === 'merge' ? { ...existing.data, ...data } : data;
    }
  }
  return objects;
}

/** Adds the content hash to generated ConfigMaps' names and to the pod specs that refer to them. */
function finalizeGenerated(objects: K8sObject[]): K8sObject[] {
  const renamed = new Map<string, string>();
  for (const o of objects) {
    const info = generated.get(o);
    if (!info?.hashSuffix) continue;
    const hash = createHash('sha256').update(JSON.stringify({ kind: o.kind, name: info.originalName, data: sortKeys(o.data ?? {}) })).digest('hex').slice(0, 10);
    const name = `${info.originalName}-${hash}`;
    renamed.set(`${o.metadata.namespace ?? ''}/${info.originalName}`, name);
    o.metadata.name = name;
  }
  if (renamed.size === 0) return objects;
  for (const o of objects) {
    const pod = podSpecOf(o);
    if (!pod) continue;
    const rename = (ref: { name?: string } | undefined) => {
      const to = ref?.name !== undefined ? renamed.get(`${o.metadata.namespace ?? ''}/${ref.name}`) : undefined;
      if (ref && to) ref.name = to;
    };
    for (const c of containersOf(pod)) {
      for (const from of c.envFrom ?? []) rename(from.configMapRef);
      for (const e of c.env ?? []) rename(e.valueFrom?.configMapKeyRef);
    }
    for (const v of pod.volumes ?? []) {
      rename(v.configMap);
      for (const s of v.projected?.sources ?? []) rename(s.configMap);
    }
  }
  return objects;
}

function sortKeys(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}

// ---- patches -----------------------------------------------------------------------------

function applyPatch(objects: K8sObject[], entry: { path?: string; patch?: string; target?: { kind?: string; name?: string } }, dir: string): void {
  const patches = entry.path ? readObjects(join(dir, entry.path)) : entry.patch ? (parseAllDocuments(entry.patch).map((d) => d.toJS()) as K8sObject[]) : [];
  if (patches.length !== 1) throw new Error(`${dir}: a patch must hold exactly one document (${entry.path ?? 'inline'})`);
  const patch = patches[0];
  const matches = objects.filter((o) =>
    entry.target
      ? (!entry.target.kind || o.kind === entry.target.kind) && (!entry.target.name || o.metadata.name === entry.target.name)
      : o.kind === patch.kind && o.metadata.name === patch.metadata.name,
  );
  if (matches.length === 0) throw new Error(`${dir}: patch ${entry.path ?? 'inline'} matches no object`);
  const { metadata, apiVersion: _apiVersion, kind: _kind, ...body } = patch;
  for (const o of matches) {
    // With a target the patch's own name is a placeholder; its labels/annotations still apply.
    const { name: _name, ...meta } = metadata ?? {};
    strategicMerge(o.metadata, meta);
    strategicMerge(o, body);
  }
}

/** Strategic merge of `patch` into `base` (in place): maps merge, `null` deletes, keyed lists merge by key. */
export function strategicMerge(base: Record<string, unknown>, patch: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(patch)) {
    const current = base[key];
    if (value === null) delete base[key];
    else if (isMap(value) && isMap(current)) strategicMerge(current, value);
    else if (Array.isArray(value) && Array.isArray(current) && MERGE_KEYS[key]) base[key] = mergeList(current, value, MERGE_KEYS[key]);
    else base[key] = structuredClone(value);
  }
}

function mergeList(base: unknown[], patch: unknown[], key: string): unknown[] {
  const out = base.map((item) => structuredClone(item)) as Record<string, unknown>[];
  for (const item of patch as Record<string, unknown>[]) {
    const found = out.find((b) => b[key] === item[key]);
    if (found) strategicMerge(found, item);
    else out.push(structuredClone(item));
  }
  return out;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---- namespace, labels, replicas, images -------------------------------------------------

function setNamespace(objects: K8sObject[], namespace: string): void {
  for (const o of objects) if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = namespace;
}

function addLabels(objects: K8sObject[], pairs: Record<string, string>, selectors: boolean, templates: boolean): void {
  for (const o of objects) {
    o.metadata.labels = { ...o.metadata.labels, ...pairs };
    if (templates && WORKLOADS.has(o.kind) && o.spec?.template) {
      o.spec.template.metadata ??= {};
      o.spec.template.metadata.labels = { ...o.spec.template.metadata.labels, ...pairs };
    }
    if (!selectors) continue;
    if (o.kind === 'Service' && o.spec) o.spec.selector = { ...o.spec.selector, ...pairs };
    if ((WORKLOADS.has(o.kind) && o.kind !== 'Job') || o.kind === 'PodDisruptionBudget') {
      o.spec.selector ??= {};
      o.spec.selector.matchLabels = { ...o.spec.selector.matchLabels, ...pairs };
    }
  }
}

function setReplicas(objects: K8sObject[], r: { name: string; count: number }, dir: string): void {
  const targets = objects.filter((o) => SCALABLE.has(o.kind) && o.metadata.name === r.name);
  if (targets.length === 0) throw new Error(`${dir}: replicas entry ${r.name} matches no workload`);
  for (const o of targets) o.spec.replicas = r.count;
}

interface ImageEntry {
  name: string;
  newName?: string;
  newTag?: string;
  digest?: string;
}

/** Splits `registry/name[:tag][@digest]` (a port in the registry is not a tag). */
export function splitImage(image: string): { name: string; tag?: string; digest?: string } {
  const [rest, digest] = image.split('@');
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  return colon > slash ? { name: rest.slice(0, colon), tag: rest.slice(colon + 1), digest } : { name: rest, digest };
}

function setImage(objects: K8sObject[], entry: ImageEntry, dir: string): void {
  let matched = 0;
  for (const o of objects) {
    const pod = podSpecOf(o);
    if (!pod) continue;
    for (const c of containersOf(pod)) {
      const current = splitImage(c.image);
      if (current.name !== entry.name) continue;
      matched++;
      const name = entry.newName ?? current.name;
      c.image = entry.digest ? `${name}@${entry.digest}` : `${name}${entry.newTag ? `:${entry.newTag}` : current.tag ? `:${current.tag}` : ''}`;
    }
  }
  if (matched === 0) throw new Error(`${dir}: images entry ${entry.name} matches no container`);
}

// ---- pod specs ---------------------------------------------------------------------------

/** The pod spec of a workload (Deployment, StatefulSet, Job, CronJob, Pod, ...), if any. */
export function podSpecOf(o: K8sObject): K8sObject['spec'] | undefined {
  if (o.kind === 'Pod') return o.spec;
  if (o.kind === 'CronJob') return o.spec?.jobTemplate?.spec?.template?.spec;
  return WORKLOADS.has(o.kind) ? o.spec?.template?.spec : undefined;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function containersOf(pod: K8sObject['spec']): any[] {
  return [...(pod.initContainers ?? []), ...(pod.containers ?? [])];
}

