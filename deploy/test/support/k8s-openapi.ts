import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { K8sObject } from './kustomize';

interface SchemaModel {
  apiVersion: string;
  kind: string;
  new (data: never): { validate(): void };
}

/**
 * The kinds k8s/ uses (and a few it is likely to add), each with its generated model from
 * kubernetes-models, keyed by the model's own apiVersion and kind so the key cannot drift.
 * An object whose apiVersion/kind is not here is reported, never skipped.
 */
const MODELS: SchemaModel[] = [
  Namespace,
  ConfigMap,
  Secret,
  Service,
  ServiceAccount,
  PersistentVolumeClaim,
  Deployment,
  StatefulSet,
  Job,
  CronJob,
  PodDisruptionBudget,
  HorizontalPodAutoscaler,
  NetworkPolicy,
  Ingress,
  Role,
  RoleBinding,
];
const BY_TYPE = new Map(MODELS.map((m) => [`${m.apiVersion} ${m.kind}`, m]));

/** The apiVersion/kind pairs openApiProblems has a schema for. */
export const SCHEMA_TYPES = MODELS.map(({ apiVersion, kind }) => ({ apiVersion, kind }));

interface SchemaError {
  instancePath: string;
  keyword: string;
  message?: string;
  params?: Record<string, unknown>;
}

/**
 * Validates an object against the Kubernetes OpenAPI schema of its apiVersion and kind
 * (kubernetes-models, offline). Returns one line per problem, naming the object and the path.
 * The generated schemas allow unknown fields, so typos in field names are left to the
 * structural check in k8s-schema.ts.
 */
export function openApiProblems(o: K8sObject): string[] {
  const at = `${o.kind}/${o.metadata?.name} (${o.apiVersion})`;
  const Model = BY_TYPE.get(`${o.apiVersion} ${o.kind}`);
  if (!Model) return [`${at}: no OpenAPI schema for ${o.apiVersion} ${o.kind}; add its kubernetes-models class to MODELS`];
  try {
    new Model(o as never).validate();
    return [];
  } catch (err) {
    const errors = (err as { errors?: SchemaError[] }).errors;
    if (!errors?.length) return [`${at}: ${(err as Error).message}`];
    // required/type messages already name the property or type; others (enum, oneOf) need params.
    const detail = (e: SchemaError) => (e.params && !['required', 'type'].includes(e.keyword) ? ` ${JSON.stringify(e.params)}` : '');
    return errors.map((e) => `${at} ${e.instancePath || '/'}: ${e.message ?? 'invalid'}${detail(e)}`);
  }
}
