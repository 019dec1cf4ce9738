import { openApiProblems, SCHEMA_TYPES } from './support/k8s-openapi';
import type { K8sObject } from './support/kustomize';

function deployment(container: Record<string, unknown>, spec: Record<string, unknown> = {}): K8sObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'gateway', namespace: 'reelay' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'gateway' } },
      template: { metadata: { labels: { app: 'gateway' } }, spec: { containers: [container] } },
      ...spec,
    },
  };
}
const container = { name: 'gateway', image: 'reelay/gateway:0.1.0', ports: [{ name: 'http', containerPort: 3000 }] };

describe('openApiProblems (Kubernetes OpenAPI schemas from kubernetes-models)', () => {
  it('accepts a well-formed Deployment', () => {
    expect(openApiProblems(deployment(container))).toEqual([]);
  });

  it('rejects a Deployment whose replicas is a string, naming the object and the path', () => {
    const problems = openApiProblems(deployment(container, { replicas: 'two' }));
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join('\n')).toMatch(/^Deployment\/gateway \(apps\/v1\) \/spec\/replicas: must be integer/m);
  });

  it('rejects a container without a name', () => {
    const { name: _name, ...nameless } = container;
    const problems = openApiProblems(deployment(nameless));
    expect(problems.join('\n')).toMatch(/Deployment\/gateway \(apps\/v1\) \/spec\/template\/spec\/containers\/0: must have required property name$/m);
  });

  it('rejects a Deployment without a selector and a Service port that is not a number', () => {
    const { selector: _selector, ...spec } = deployment(container).spec;
    expect(openApiProblems({ ...deployment(container), spec }).join('\n')).toMatch(/\/spec: must have required property selector$/m);
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'gateway' }, spec: { ports: [{ port: 'http' }] } };
    expect(openApiProblems(service).join('\n')).toMatch(/^Service\/gateway \(v1\) \/spec\/ports\/0\/port: must be integer/m);
  });

  it('rejects an enum value outside the allowed ones, listing them', () => {
    const problems = openApiProblems(deployment({ ...container, imagePullPolicy: 'Sometimes' }));
    expect(problems.join('\n')).toMatch(/\/spec\/template\/spec\/containers\/0\/imagePullPolicy: must be equal to one of the allowed values .*IfNotPresent/);
  });

  it.each(SCHEMA_TYPES)('has a working schema for $apiVersion $kind (a numeric metadata.name fails)', ({ apiVersion, kind }) => {
    expect(openApiProblems({ apiVersion, kind, metadata: { name: 5 as unknown as string } })).toContain(`${kind}/5 (${apiVersion}) /metadata/name: must be string`);
  });

  it('reports a kind it has no schema for instead of skipping it', () => {
    expect(openApiProblems({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } })).toEqual([
      'Widget/w (example.com/v1): no OpenAPI schema for example.com/v1 Widget; add its kubernetes-models class to MODELS',
    ]);
    // A known kind at an apiVersion without a model is no exception.
    expect(openApiProblems({ ...deployment(container), apiVersion: 'apps/v1beta1' })).toHaveLength(1);
  });
});
