import { containersOf, type K8sObject } from './kustomize';

/**
 * A compact, hand-written structural check of the Kubernetes objects k8s/ uses, alongside the
 * OpenAPI schema validation in k8s-openapi.ts, whose generated schemas accept unknown fields. It knows the
 * apiVersion/kind pairs, required fields, value types and — for the structures written by hand
 * most often — the allowed field names, so a typo such as `readinesProbe` is caught.
 * Returns the problems found, each with a JSON-ish path.
 */
export function validateObject(o: K8sObject): string[] {
  const problems: string[] = [];
  const at = `${o.kind}/${o.metadata?.name}`;
  const fail = (path: string, msg: string) => problems.push(`${at} ${path}: ${msg}`);

  const expected = KINDS[o.kind];
  if (!expected) return [`${at}: kind ${o.kind} is not one this check knows`];
  if (o.apiVersion !== expected) fail('apiVersion', `${o.apiVersion}, expected ${expected}`);
  checkMetadata(o.metadata, 'metadata', fail, o.kind !== 'Namespace');

  const spec = o.spec;
  switch (o.kind) {
    case 'Deployment':
    case 'StatefulSet':
      keys(spec, 'spec', o.kind === 'Deployment' ? DEPLOYMENT_SPEC : STATEFULSET_SPEC, fail);
      checkSelector(spec?.selector, 'spec.selector', fail);
      if (spec?.replicas !== undefined) int(spec.replicas, 'spec.replicas', fail, 0);
      checkPodTemplate(spec?.template, 'spec.template', fail, (spec?.volumeClaimTemplates ?? []).map((t: { metadata?: { name?: string } }) => t.metadata?.name));
      if (o.kind === 'StatefulSet') {
        str(spec?.serviceName, 'spec.serviceName', fail);
        for (const [i, pvc] of (spec?.volumeClaimTemplates ?? []).entries()) {
          str(pvc.metadata?.name, `spec.volumeClaimTemplates[${i}].metadata.name`, fail);
          checkPvcSpec(pvc.spec, `spec.volumeClaimTemplates[${i}].spec`, fail);
        }
      }
      break;
    case 'Job':
      keys(spec, 'spec', JOB_SPEC, fail);
      checkPodTemplate(spec?.template, 'spec.template', fail);
      if (!['OnFailure', 'Never'].includes(spec?.template?.spec?.restartPolicy)) fail('spec.template.spec.restartPolicy', 'must be OnFailure or Never');
      break;
    case 'Service':
      keys(spec, 'spec', SERVICE_SPEC, fail);
      if (!Array.isArray(spec?.ports) || spec.ports.length === 0) fail('spec.ports', 'required');
      for (const [i, p] of (spec?.ports ?? []).entries()) {
        keys(p, `spec.ports[${i}]`, ['name', 'port', 'targetPort', 'protocol', 'nodePort', 'appProtocol'], fail);
        int(p.port, `spec.ports[${i}].port`, fail, 1, 65535);
        if (spec.ports.length > 1) str(p.name, `spec.ports[${i}].name`, fail);
      }
      if (spec?.selector !== undefined) labelMap(spec.selector, 'spec.selector', fail);
      break;
    case 'ConfigMap':
    case 'Secret':
      for (const field of ['data', 'stringData']) {
        for (const [k, v] of Object.entries(o[field] ?? {})) {
          if (!/^[-._a-zA-Z0-9]+$/.test(k)) fail(`${field}.${k}`, 'invalid key');
          if (typeof v !== 'string') fail(`${field}.${k}`, 'must be a string');
        }
      }
      break;
    case 'PersistentVolumeClaim':
      checkPvcSpec(spec, 'spec', fail);
      break;
    case 'PodDisruptionBudget':
      keys(spec, 'spec', ['minAvailable', 'maxUnavailable', 'selector', 'unhealthyPodEvictionPolicy'], fail);
      if ((spec?.minAvailable === undefined) === (spec?.maxUnavailable === undefined)) fail('spec', 'exactly one of minAvailable and maxUnavailable');
      checkSelector(spec?.selector, 'spec.selector', fail);
      break;
    case 'HorizontalPodAutoscaler':
      keys(spec, 'spec', ['scaleTargetRef', 'minReplicas', 'maxReplicas', 'metrics', 'behavior'], fail);
      for (const f of ['apiVersion', 'kind', 'name']) str(spec?.scaleTargetRef?.[f], `spec.scaleTargetRef.${f}`, fail);
      int(spec?.minReplicas, 'spec.minReplicas', fail, 1);
      int(spec?.maxReplicas, 'spec.maxReplicas', fail, 1);
      if (spec?.minReplicas > spec?.maxReplicas) fail('spec', 'minReplicas > maxReplicas');
      for (const [i, m] of (spec?.metrics ?? []).entries()) {
        if (!['Resource', 'Pods', 'Object', 'External', 'ContainerResource'].includes(m.type)) fail(`spec.metrics[${i}].type`, m.type);
        if (m.type === 'Resource' && !['Utilization', 'AverageValue'].includes(m.resource?.target?.type)) fail(`spec.metrics[${i}].resource.target.type`, 'Utilization or AverageValue');
      }
      break;
    case 'NetworkPolicy':
      keys(spec, 'spec', ['podSelector', 'policyTypes', 'ingress', 'egress'], fail);
      if (spec?.podSelector === undefined) fail('spec.podSelector', 'required');
      for (const t of spec?.policyTypes ?? []) if (!['Ingress', 'Egress'].includes(t)) fail('spec.policyTypes', t);
      for (const [i, rule] of (spec?.ingress ?? []).entries()) {
        keys(rule, `spec.ingress[${i}]`, ['from', 'ports'], fail);
        for (const [j, peer] of (rule.from ?? []).entries()) keys(peer, `spec.ingress[${i}].from[${j}]`, ['podSelector', 'namespaceSelector', 'ipBlock'], fail);
      }
      break;
    case 'Ingress':
      keys(spec, 'spec', ['ingressClassName', 'defaultBackend', 'tls', 'rules'], fail);
      for (const [i, t] of (spec?.tls ?? []).entries()) keys(t, `spec.tls[${i}]`, ['hosts', 'secretName'], fail);
      for (const [i, rule] of (spec?.rules ?? []).entries()) {
        keys(rule, `spec.rules[${i}]`, ['host', 'http'], fail);
        for (const [j, p] of (rule.http?.paths ?? []).entries()) {
          const at = `spec.rules[${i}].http.paths[${j}]`;
          keys(p, at, ['path', 'pathType', 'backend'], fail);
          if (!['Exact', 'Prefix', 'ImplementationSpecific'].includes(p.pathType)) fail(`${at}.pathType`, String(p.pathType));
          keys(p.backend?.service, `${at}.backend.service`, ['name', 'port'], fail);
          str(p.backend?.service?.name, `${at}.backend.service.name`, fail);
          keys(p.backend?.service?.port, `${at}.backend.service.port`, ['name', 'number'], fail);
        }
      }
      break;
    case 'Namespace':
      break;
  }
  return problems;
}

const KINDS: Record<string, string> = {
  Namespace: 'v1',
  ConfigMap: 'v1',
  Secret: 'v1',
  Service: 'v1',
  PersistentVolumeClaim: 'v1',
  Deployment: 'apps/v1',
  StatefulSet: 'apps/v1',
  Job: 'batch/v1',
  PodDisruptionBudget: 'policy/v1',
  HorizontalPodAutoscaler: 'autoscaling/v2',
  NetworkPolicy: 'networking.k8s.io/v1',
  Ingress: 'networking.k8s.io/v1',
};

const DEPLOYMENT_SPEC = ['replicas', 'selector', 'template', 'strategy', 'minReadySeconds', 'revisionHistoryLimit', 'progressDeadlineSeconds', 'paused'];
const STATEFULSET_SPEC = ['replicas', 'selector', 'template', 'serviceName', 'volumeClaimTemplates', 'podManagementPolicy', 'updateStrategy', 'revisionHistoryLimit', 'minReadySeconds', 'persistentVolumeClaimRetentionPolicy', 'ordinals'];
const JOB_SPEC = ['template', 'backoffLimit', 'ttlSecondsAfterFinished', 'activeDeadlineSeconds', 'completions', 'parallelism', 'selector', 'manualSelector', 'suspend', 'podFailurePolicy', 'completionMode', 'backoffLimitPerIndex', 'maxFailedIndexes', 'podReplacementPolicy'];
const SERVICE_SPEC = ['selector', 'ports', 'type', 'clusterIP', 'clusterIPs', 'publishNotReadyAddresses', 'sessionAffinity', 'externalTrafficPolicy', 'internalTrafficPolicy', 'ipFamilyPolicy', 'loadBalancerClass', 'trafficDistribution'];
const POD_SPEC = ['containers', 'initContainers', 'volumes', 'securityContext', 'automountServiceAccountToken', 'serviceAccountName', 'terminationGracePeriodSeconds', 'restartPolicy', 'topologySpreadConstraints', 'affinity', 'nodeSelector', 'tolerations', 'priorityClassName', 'imagePullSecrets', 'enableServiceLinks', 'dnsPolicy', 'hostname', 'subdomain'];
const CONTAINER = ['name', 'image', 'imagePullPolicy', 'command', 'args', 'workingDir', 'ports', 'env', 'envFrom', 'resources', 'volumeMounts', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle', 'securityContext', 'terminationMessagePolicy', 'stdin', 'tty'];
const PROBE = ['httpGet', 'exec', 'tcpSocket', 'grpc', 'initialDelaySeconds', 'periodSeconds', 'timeoutSeconds', 'successThreshold', 'failureThreshold', 'terminationGracePeriodSeconds'];
const CONTAINER_SECURITY = ['runAsNonRoot', 'runAsUser', 'runAsGroup', 'allowPrivilegeEscalation', 'readOnlyRootFilesystem', 'capabilities', 'privileged', 'seccompProfile', 'procMount'];
const POD_SECURITY = ['runAsNonRoot', 'runAsUser', 'runAsGroup', 'fsGroup', 'fsGroupChangePolicy', 'seccompProfile', 'supplementalGroups', 'sysctls'];
const VOLUME_SOURCES = ['emptyDir', 'configMap', 'secret', 'persistentVolumeClaim', 'projected', 'downwardAPI'];

type Fail = (path: string, msg: string) => void;

function keys(value: unknown, path: string, allowed: readonly string[], fail: Fail): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(path, 'must be an object');
    return;
  }
  for (const k of Object.keys(value)) if (!allowed.includes(k)) fail(`${path}.${k}`, 'unknown field');
}

function str(value: unknown, path: string, fail: Fail): void {
  if (typeof value !== 'string' || value === '') fail(path, 'required string');
}

function int(value: unknown, path: string, fail: Fail, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) fail(path, `integer in [${min}, ${max}] required, got ${JSON.stringify(value)}`);
}

const DNS_1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function checkMetadata(meta: K8sObject['metadata'] | undefined, path: string, fail: Fail, namespaced: boolean): void {
  if (!meta?.name || !DNS_1123.test(meta.name) || meta.name.length > 63) fail(`${path}.name`, `not a DNS-1123 label: ${meta?.name}`);
  if (namespaced && !meta?.namespace) fail(`${path}.namespace`, 'required once rendered');
  if (meta?.labels) labelMap(meta.labels, `${path}.labels`, fail);
}

function labelMap(labels: Record<string, unknown>, path: string, fail: Fail): void {
  for (const [k, v] of Object.entries(labels)) {
    if (!/^([a-z0-9.-]+\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(k)) fail(`${path}.${k}`, 'invalid label key');
    if (typeof v !== 'string' || !/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(v) || v.length > 63) fail(`${path}.${k}`, `invalid label value ${JSON.stringify(v)}`);
  }
}

function checkSelector(selector: { matchLabels?: Record<string, string> } | undefined, path: string, fail: Fail): void {
  if (!selector?.matchLabels || Object.keys(selector.matchLabels).length === 0) fail(`${path}.matchLabels`, 'required and non-empty');
  else labelMap(selector.matchLabels, `${path}.matchLabels`, fail);
}

function checkPvcSpec(spec: K8sObject['spec'] | undefined, path: string, fail: Fail): void {
  keys(spec, path, ['accessModes', 'resources', 'storageClassName', 'volumeMode', 'selector', 'volumeName', 'dataSource'], fail);
  for (const m of spec?.accessModes ?? []) if (!['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'].includes(m)) fail(`${path}.accessModes`, m);
  if (!spec?.accessModes?.length) fail(`${path}.accessModes`, 'required');
  if (parseQuantity(spec?.resources?.requests?.storage) === undefined) fail(`${path}.resources.requests.storage`, 'required quantity');
}

function checkPodTemplate(template: K8sObject['spec'] | undefined, path: string, fail: Fail, claimTemplates: string[] = []): void {
  if (template?.metadata?.labels) labelMap(template.metadata.labels, `${path}.metadata.labels`, fail);
  const pod = template?.spec;
  keys(pod, `${path}.spec`, POD_SPEC, fail);
  if (!Array.isArray(pod?.containers) || pod.containers.length === 0) fail(`${path}.spec.containers`, 'required');
  if (pod?.securityContext) keys(pod.securityContext, `${path}.spec.securityContext`, POD_SECURITY, fail);
  const volumeNames = new Set<string>(claimTemplates);
  for (const [i, v] of (pod?.volumes ?? []).entries()) {
    const sources = Object.keys(v).filter((k) => k !== 'name');
    if (sources.length !== 1 || !VOLUME_SOURCES.includes(sources[0])) fail(`${path}.spec.volumes[${i}]`, `exactly one known source, got ${sources.join(',')}`);
    volumeNames.add(v.name);
  }
  for (const [i, c] of containersOf(pod ?? {}).entries()) {
    const cp = `${path}.spec.containers[${i}]`;
    keys(c, cp, CONTAINER, fail);
    str(c.name, `${cp}.name`, fail);
    str(c.image, `${cp}.image`, fail);
    const portNames = new Set<string>();
    for (const [j, p] of (c.ports ?? []).entries()) {
      keys(p, `${cp}.ports[${j}]`, ['name', 'containerPort', 'protocol', 'hostPort'], fail);
      int(p.containerPort, `${cp}.ports[${j}].containerPort`, fail, 1, 65535);
      if (p.name) portNames.add(p.name);
    }
    for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
      if (!c[probe]) continue;
      keys(c[probe], `${cp}.${probe}`, PROBE, fail);
      const handlers = ['httpGet', 'exec', 'tcpSocket', 'grpc'].filter((h) => c[probe][h]);
      if (handlers.length !== 1) fail(`${cp}.${probe}`, 'exactly one handler');
      const port = c[probe].httpGet?.port;
      if (typeof port === 'string' && !portNames.has(port)) fail(`${cp}.${probe}.httpGet.port`, `no container port named ${port}`);
    }
    for (const [j, e] of (c.env ?? []).entries()) {
      keys(e, `${cp}.env[${j}]`, ['name', 'value', 'valueFrom'], fail);
      if ((e.value === undefined) === (e.valueFrom === undefined)) fail(`${cp}.env[${j}]`, 'exactly one of value and valueFrom');
      if (e.value !== undefined && typeof e.value !== 'string') fail(`${cp}.env[${j}].value`, 'must be a string');
    }
    for (const [j, m] of (c.volumeMounts ?? []).entries()) {
      keys(m, `${cp}.volumeMounts[${j}]`, ['name', 'mountPath', 'readOnly', 'subPath'], fail);
      if (!volumeNames.has(m.name)) fail(`${cp}.volumeMounts[${j}]`, `no volume ${m.name}`);
    }
    if (c.securityContext) {
      keys(c.securityContext, `${cp}.securityContext`, CONTAINER_SECURITY, fail);
      keys(c.securityContext.capabilities ?? {}, `${cp}.securityContext.capabilities`, ['add', 'drop'], fail);
    }
    for (const kind of ['requests', 'limits'] as const) {
      for (const [res, q] of Object.entries(c.resources?.[kind] ?? {})) {
        if (parseQuantity(q) === undefined) fail(`${cp}.resources.${kind}.${res}`, `bad quantity ${JSON.stringify(q)}`);
      }
    }
  }
}

const SUFFIX: Record<string, number> = { m: 1e-3, '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };

/** A Kubernetes quantity ("250m", "512Mi", "1", 2) as a number, or undefined when malformed. */
export function parseQuantity(q: unknown): number | undefined {
  if (typeof q === 'number') return q;
  if (typeof q !== 'string') return undefined;
  const m = /^(\d+(?:\.\d+)?)(m|k|K|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(q);
  return m ? Number(m[1]) * SUFFIX[m[2] ?? ''] : undefined;
}
