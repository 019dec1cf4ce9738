import 'reflect-metadata';
import { createHash } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Catalog } from '@reelay/catalog';
import { createLogger } from '@reelay/service-kit';
import { AppModule } from '../app.module';
import { GatewayConfig } from '../config/gateway-config';
import type { GatewayDeps } from '../gateway-deps';
import { buildOpenApiDocument, REQUEST_SCHEMAS, RESPONSE_SCHEMAS } from './openapi-document';
import type { SchemaName } from './route-specs';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** JSON Schema 2020-12 keywords (core, applicator, validation, format, content, meta-data). */
const SCHEMA_KEYWORDS = new Set([
  '$ref', '$defs', '$anchor', '$comment', '$id', '$schema', '$dynamicRef', '$dynamicAnchor',
  'type', 'enum', 'const', 'properties', 'patternProperties', 'additionalProperties', 'propertyNames', 'required',
  'items', 'prefixItems', 'contains', 'minContains', 'maxContains', 'minItems', 'maxItems', 'uniqueItems', 'unevaluatedItems', 'unevaluatedProperties',
  'allOf', 'anyOf', 'oneOf', 'not', 'if', 'then', 'else', 'dependentSchemas', 'dependentRequired',
  'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf', 'minLength', 'maxLength', 'pattern', 'minProperties', 'maxProperties',
  'format', 'contentEncoding', 'contentMediaType', 'contentSchema',
  'title', 'description', 'default', 'deprecated', 'readOnly', 'writeOnly', 'examples',
  // OpenAPI 3.1 base dialect additions
  'discriminator', 'xml', 'externalDocs', 'example',
]);
const TYPES = new Set(['null', 'boolean', 'object', 'array', 'number', 'string', 'integer']);

/** Problems with `schema` as a JSON Schema 2020-12 (the rules a generator can get wrong). */
function schemaProblems(schema: Json, at: string): string[] {
  if (typeof schema === 'boolean') return [];
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return [`${at}: not a schema object`];
  const out: string[] = [];
  for (const k of Object.keys(schema)) if (!SCHEMA_KEYWORDS.has(k) && !k.startsWith('x-')) out.push(`${at}: unknown keyword ${k}`);
  if ('nullable' in schema) out.push(`${at}: nullable is OpenAPI 3.0, not 3.1`);
  const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  for (const t of types) if (!TYPES.has(t)) out.push(`${at}: bad type ${t}`);
  if (schema.required !== undefined && !(Array.isArray(schema.required) && schema.required.every((r: unknown) => typeof r === 'string'))) out.push(`${at}: required must be strings`);
  if (schema.enum !== undefined && !(Array.isArray(schema.enum) && schema.enum.length > 0)) out.push(`${at}: enum must be a non-empty array`);
  if (schema.pattern !== undefined) {
    try {
      new RegExp(schema.pattern, 'u');
    } catch {
      out.push(`${at}: pattern is not a regular expression`);
    }
  }
  for (const k of ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minLength', 'maxLength', 'minItems', 'maxItems']) {
    if (schema[k] !== undefined && typeof schema[k] !== 'number') out.push(`${at}: ${k} must be a number`);
  }
  for (const k of ['properties', 'patternProperties', '$defs', 'dependentSchemas']) {
    for (const [name, sub] of Object.entries(schema[k] ?? {})) out.push(...schemaProblems(sub, `${at}.${k}.${name}`));
  }
  for (const k of ['additionalProperties', 'items', 'contains', 'not', 'if', 'then', 'else', 'propertyNames', 'unevaluatedItems', 'unevaluatedProperties', 'contentSchema']) {
    if (schema[k] !== undefined) out.push(...schemaProblems(schema[k], `${at}.${k}`));
  }
  for (const k of ['allOf', 'anyOf', 'oneOf', 'prefixItems']) {
    if (schema[k] === undefined) continue;
    if (!Array.isArray(schema[k]) || schema[k].length === 0) out.push(`${at}: ${k} must be a non-empty array`);
    else schema[k].forEach((sub: Json, i: number) => out.push(...schemaProblems(sub, `${at}.${k}[${i}]`)));
  }
  return out;
}

function resolvePointer(doc: Json, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  return ref
    .slice(2)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<Json>((node, key) => (node && typeof node === 'object' ? node[key] : undefined), doc);
}

function allRefs(node: Json, at = '#'): { ref: string; at: string }[] {
  if (!node || typeof node !== 'object') return [];
  const own = typeof node.$ref === 'string' ? [{ ref: node.$ref as string, at }] : [];
  return [...own, ...Object.entries(node).flatMap(([k, v]) => allRefs(v, `${at}/${k}`))];
}

/** Structural OpenAPI 3.1 checks: no validator package is installed, so the rules that matter are written out here. */
function openApiProblems(doc: Json): string[] {
  const out: string[] = [];
  if (typeof doc.openapi !== 'string' || !/^3\.1\.\d+$/.test(doc.openapi)) out.push('openapi must be 3.1.x');
  if (typeof doc.info?.title !== 'string' || typeof doc.info?.version !== 'string') out.push('info.title and info.version are required strings');
  if (!doc.paths || typeof doc.paths !== 'object') out.push('paths is required');
  const operationIds = new Set<string>();
  for (const [path, item] of Object.entries<Json>(doc.paths ?? {})) {
    if (!path.startsWith('/')) out.push(`${path}: paths start with /`);
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const [method, op] of Object.entries<Json>(item)) {
      const at = `${method.toUpperCase()} ${path}`;
      if (!METHODS.includes(method)) {
        out.push(`${at}: unknown method`);
        continue;
      }
      if (typeof op.operationId !== 'string' || operationIds.has(op.operationId)) out.push(`${at}: operationId missing or not unique`);
      operationIds.add(op.operationId);
      const params: Json[] = op.parameters ?? [];
      for (const p of params) {
        if (typeof p.name !== 'string' || !['query', 'header', 'path', 'cookie'].includes(p.in)) out.push(`${at}: parameter needs name and a valid in`);
        if (p.in === 'path' && (p.required !== true || !templated.includes(p.name))) out.push(`${at}: path parameter ${p.name} must be required and in the template`);
        if (!p.schema && !p.content) out.push(`${at}: parameter ${p.name} needs schema or content`);
        if (p.schema) out.push(...schemaProblems(p.schema, `${at} parameter ${p.name}`));
      }
      for (const name of templated) if (!params.some((p) => p.in === 'path' && p.name === name)) out.push(`${at}: path parameter ${name} is not described`);
      if (op.requestBody && (!op.requestBody.content || Object.keys(op.requestBody.content).length === 0)) out.push(`${at}: requestBody needs content`);
      const responses = Object.entries<Json>(op.responses ?? {});
      if (responses.length === 0) out.push(`${at}: responses are required`);
      for (const [status, r] of responses) {
        if (!/^([1-5]\d\d|[1-5]XX|default)$/.test(status)) out.push(`${at}: bad response key ${status}`);
        if (typeof r.description !== 'string') out.push(`${at} ${status}: description is required`);
        for (const [type, m] of Object.entries<Json>(r.content ?? {})) if (m.schema) out.push(...schemaProblems(m.schema, `${at} ${status} ${type}`));
      }
      for (const s of op.security ?? []) for (const name of Object.keys(s)) if (!doc.components?.securitySchemes?.[name]) out.push(`${at}: unknown security scheme ${name}`);
    }
  }
  for (const [name, schema] of Object.entries(doc.components?.schemas ?? {})) out.push(...schemaProblems(schema, `components.schemas.${name}`));
  for (const { ref, at } of allRefs(doc)) if (resolvePointer(doc, ref) === undefined) out.push(`${at}: $ref ${ref} does not resolve`);
  return out;
}

/** The routes the Nest app registered with Express 5, as "METHOD /openapi/{template}". */
function registeredRoutes(app: INestApplication): string[] {
  const express = app.getHttpAdapter().getInstance() as Json;
  const stack: Json[] = (express.router ?? express._router).stack;
  return stack
    .filter((layer) => layer.route)
    .flatMap((layer) =>
      Object.keys(layer.route.methods)
        .filter((m) => m !== '_all')
        .map((m) => `${m.toUpperCase()} ${String(layer.route.path).replace(/:(\w+)/g, '{$1}')}`),
    );
}

describe('OpenAPI document', () => {
  const doc = buildOpenApiDocument() as Json;
  let app: INestApplication;
  let base: string;

  beforeAll(async () => {
    // The router only needs the module's controllers: deps that are never called stay empty.
    const config = GatewayConfig.parse({ DATABASE_URL: 'postgres://unused@127.0.0.1:1/unused' });
    const deps = { config, catalog: new Catalog(['local']), logger: createLogger('gateway', 'silent') } as unknown as GatewayDeps;
    app = await NestFactory.create(AppModule.register(deps, {}, async () => undefined), { logger: false, bodyParser: false });
    await app.listen(0, '127.0.0.1');
    base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });
  afterAll(() => app?.close());

  it('is a structurally valid OpenAPI 3.1 document with JSON Schema 2020-12 component schemas', () => {
    expect(openApiProblems(doc)).toEqual([]);
    expect(Object.keys(doc.components.schemas).sort()).toEqual([...Object.keys(RESPONSE_SCHEMAS), ...Object.keys(REQUEST_SCHEMAS)].sort());
  });

  it('the structural checks catch what they claim to', () => {
    const broken = structuredClone(doc);
    broken.openapi = '3.0.3';
    broken.paths['/v1/jobs/{id}'].get.parameters = [];
    broken.paths['/v1/jobs'].post.responses['202'].content['application/json'].schema = { $ref: '#/components/schemas/Nope' };
    broken.components.schemas.Job.properties.status.nullable = true;
    const problems = openApiProblems(broken).join('\n');
    expect(problems).toMatch(/3\.1\.x/);
    expect(problems).toMatch(/path parameter id is not described/);
    expect(problems).toMatch(/Nope does not resolve/);
    expect(problems).toMatch(/nullable is OpenAPI 3.0/);
  });

  it('lists every route the gateway serves, and nothing it does not', () => {
    const documented = Object.entries<Json>(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`));
    const served = registeredRoutes(app);
    expect(served.length).toBeGreaterThan(15);
    expect([...new Set(served)].sort()).toEqual([...new Set(documented)].sort());
  });

  it('has an example for every JSON body, each valid against its zod contract', () => {
    const schemas: Partial<Record<SchemaName, { safeParse: (v: unknown) => { success: boolean } }>> = { ...RESPONSE_SCHEMAS, ...REQUEST_SCHEMAS };
    let checked = 0;
    for (const [path, item] of Object.entries<Json>(doc.paths)) {
      for (const [method, op] of Object.entries<Json>(item)) {
        const bodies = [...Object.entries<Json>(op.requestBody?.content ?? {}), ...Object.values<Json>(op.responses).flatMap((r) => Object.entries<Json>(r.content ?? {}))];
        for (const [type, m] of bodies) {
          const name = typeof m.schema?.$ref === 'string' ? (m.schema.$ref.split('/').pop() as SchemaName) : undefined;
          if (type === 'application/json' || type === 'multipart/form-data') expect({ at: `${method} ${path} ${type}`, hasExample: m.example !== undefined }).toEqual({ at: `${method} ${path} ${type}`, hasExample: true });
          if (!name || type !== 'application/json') continue;
          expect({ at: `${method} ${path} ${name}`, valid: schemas[name]!.safeParse(m.example).success }).toEqual({ at: `${method} ${path} ${name}`, valid: true });
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(40);
  });

  it('has an example for every success response with a body', () => {
    for (const [path, item] of Object.entries<Json>(doc.paths)) {
      for (const [method, op] of Object.entries<Json>(item)) {
        const [status, success] = Object.entries<Json>(op.responses)[0];
        expect(Number(status)).toBeLessThan(300);
        for (const [type, m] of Object.entries<Json>(success.content ?? {})) expect({ at: `${method} ${path} ${type}`, example: m.example !== undefined }).toEqual({ at: `${method} ${path} ${type}`, example: true });
      }
    }
  });

  it('documents every error status with its envelope, OpenAI\'s on /v1/videos', () => {
    expect(doc.paths['/v1/videos'].post.responses['400'].content['application/json'].schema.$ref).toBe('#/components/schemas/OpenAIErrorEnvelope');
    expect(doc.paths['/v1/jobs'].post.responses['400'].content['application/json'].schema.$ref).toBe('#/components/schemas/ApiErrorEnvelope');
    expect(doc.components.schemas.ApiErrorEnvelope.properties.error.properties.code.enum).toEqual(expect.arrayContaining(['invalid_request', 'rate_limited', 'payload_too_large', 'unsupported_settings']));
    for (const item of Object.values<Json>(doc.paths)) {
      // Every key is looked up in the database, which may be out of reach (503).
      for (const op of Object.values<Json>(item)) if (op.security.length) expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '429', '503']));
    }
    expect(Object.keys(doc.paths['/health/live'].get.responses)).toEqual(['200']);
    expect(doc.paths['/v1/jobs/{id}/cancel'].post.responses['202'].headers).toHaveProperty('ETag');
  });

  it('lets the routes that take a job token be called with either the key or the token, and no other', () => {
    const withToken = Object.entries<Json>(doc.paths).flatMap(([path, item]) =>
      Object.entries<Json>(item).filter(([, op]) => op.security.some((s: Json) => 'jobToken' in s)).map(([method, op]) => [method, path, op.security]),
    );
    expect(withToken).toEqual([
      ['get', '/v1/jobs/{id}/stream', [{ apiKey: [] }, { jobToken: [] }]],
      ['get', '/v1/jobs/{id}/content', [{ apiKey: [] }, { jobToken: [] }]],
      ['get', '/v1/jobs/{id}/poster', [{ apiKey: [] }, { jobToken: [] }]],
    ]);
    expect(doc.components.securitySchemes.jobToken).toMatchObject({ type: 'apiKey', in: 'query', name: 'token' });
    expect(Object.keys(doc.paths['/v1/jobs/{id}/stream'].get.responses)).toEqual(expect.arrayContaining(['200', '204']));
  });

  it('serves the document at /openapi.json and a page rendering it at /docs', async () => {
    const res = await fetch(`${base}/openapi.json`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(JSON.parse(JSON.stringify(doc)));
    const page = await fetch(`${base}/docs`);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain("fetch('/openapi.json')");
  });

  it('serves the browser pages with a CSP that runs no inline code but their own, no framing and no sniffing', async () => {
    for (const path of ['/', '/web/app.js', '/docs']) {
      const res = await fetch(`${base}${path}`);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      if (path === '/web/app.js') continue;
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("object-src 'none'");
    }
    // /docs' inline script and style are allowed by their hashes, which must be those of what is served.
    const page = await (await fetch(`${base}/docs`)).text();
    const csp = (await fetch(`${base}/docs`)).headers.get('content-security-policy') ?? '';
    for (const tag of ['script', 'style']) {
      const inline = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(page)![1]!;
      expect(csp).toContain(`'sha256-${createHash('sha256').update(inline, 'utf8').digest('base64')}'`);
    }
  });
});
