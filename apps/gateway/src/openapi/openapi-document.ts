import {
  API_ERROR_STATUS,
  ApiErrorCode,
  ApiErrorEnvelope,
  HealthLive,
  HealthReady,
  Job,
  JobHistory,
  JobList,
  JobToken,
  JobTokenRequest,
  ModelList,
  OpenAICreateVideoJson,
  OpenAICreateVideoMultipart,
  OpenAIErrorEnvelope,
  OpenAIRemixVideo,
  OpenAIVideo,
  OpenAIVideoDeleted,
  OpenAIVideoList,
  RegenerateJobRequest,
  SubmitJobRequest,
  UploadedAsset,
  WebhookSecret,
  CreditBalance,
  JobWebhookDeliveries,
  TestWebhookRequest,
  WebhookTestResult,
  CancelJobsRequest,
  CancelJobsResult,
  RegenerateFailedRequest,
  RegenerateFailedResult,
  RotateWebhookSecretRequest,
} from '@reelay/contracts';
import { z } from 'zod';
import { openAIErrorType } from '../openai-videos/openai-error';
import { ROUTES, type BodySpec, type RouteSpec, type SchemaName } from './route-specs';

type Json = Record<string, unknown>;

/** Request bodies are described as clients write them (zod input), responses as the gateway writes them (output). */
export const REQUEST_SCHEMAS: Partial<Record<SchemaName, z.ZodType>> = { SubmitJobRequest, RegenerateJobRequest, CancelJobsRequest, RegenerateFailedRequest, RotateWebhookSecretRequest, JobTokenRequest, OpenAICreateVideoJson, OpenAICreateVideoMultipart, OpenAIRemixVideo };
export const RESPONSE_SCHEMAS: Partial<Record<SchemaName, z.ZodType>> = {
  Job, JobList, JobHistory, JobToken, UploadedAsset, ModelList, WebhookSecret, CreditBalance, JobWebhookDeliveries, TestWebhookRequest, WebhookTestResult, CancelJobsResult, RegenerateFailedResult, HealthLive, HealthReady, ApiErrorEnvelope,
  OpenAIVideo, OpenAIVideoList, OpenAIVideoDeleted, OpenAIErrorEnvelope,
};

const ref = (name: SchemaName) => ({ $ref: `#/components/schemas/${name}` });

function componentSchemas(schemas: Partial<Record<SchemaName, z.ZodType>>, io: 'input' | 'output'): Record<string, Json> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(schemas)) registry.add(schema, { id });
  const { schemas: out } = z.toJSONSchema(registry, { io, unrepresentable: 'any', uri: (id) => `#/components/schemas/${id}` });
  // Inside an OpenAPI document the schemas are located by their component path, not by $id/$schema.
  return Object.fromEntries(Object.entries(out).map(([id, { $id: _id, $schema: _schema, ...schema }]) => [id, schema as Json]));
}

const ERROR_TEXT: Record<number, string> = {
  400: 'Invalid request', 401: 'Missing or unknown API key', 402: 'Not enough credits', 404: 'Not found', 409: 'Conflict', 410: 'The video was deleted (retention or its owner)',
  413: 'Body or upload too large', 415: 'Not a supported image type', 416: 'Range not satisfiable', 422: 'The model cannot do these settings',
  403: 'This API key can only read', 429: 'Too many requests for this key (see Retry-After)', 500: 'Internal error', 503: 'Temporarily unavailable (see Retry-After)',
};

const codesFor = (status: number): ApiErrorCode[] =>
  status === 416 ? ['invalid_request'] : ApiErrorCode.options.filter((c) => API_ERROR_STATUS[c] === status);

function errorResponse(status: number, openai: boolean): Json {
  const codes = codesFor(status);
  // OpenAI answers values a model cannot take with 400; the gateway does the same on /v1/videos.
  const openaiCodes = openai && status === 400 ? [...codes, 'unsupported_settings'] : codes;
  const code = openaiCodes[0] ?? 'internal_error';
  const message = ERROR_TEXT[status] ?? 'Error';
  const example = openai
    ? { error: { message: status === 400 ? "Invalid value: '11'. seconds: local-preview supports durations of 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 seconds." : `${message}.`, type: openAIErrorType(status), param: status === 400 ? 'seconds' : null, code } }
    : { error: { code, message: `${message}.`, ...(status === 400 ? { details: [{ path: 'prompt', message: 'Prompt must not be empty.' }] } : {}) } };
  const headers: Json = {};
  if (status === 429 || status === 503) headers['Retry-After'] = { description: 'Seconds to wait', schema: { type: 'integer' } };
  if (status === 401) headers['WWW-Authenticate'] = { description: 'Bearer', schema: { type: 'string' } };
  return {
    description: `${message}. Codes: ${openaiCodes.map((c) => `\`${c}\``).join(', ') || '`internal_error`'}.`,
    ...(Object.keys(headers).length ? { headers } : {}),
    content: { 'application/json': { schema: ref(openai ? 'OpenAIErrorEnvelope' : 'ApiErrorEnvelope'), example } },
  };
}

function content(bodies: Record<string, BodySpec>): Json {
  return Object.fromEntries(
    Object.entries(bodies).map(([type, b]) => [type, { schema: typeof b.schema === 'string' ? ref(b.schema) : b.schema, ...(b.example === undefined ? {} : { example: b.example }) }]),
  );
}

function parameters(route: RouteSpec): Json[] {
  const out: Json[] = [];
  for (const p of route.pathParams ?? []) out.push({ name: p.name, in: 'path', required: true, description: p.description, schema: { type: 'string' } });
  if (route.query) {
    for (const [name, field] of Object.entries(route.query.shape as Record<string, z.ZodType>)) {
      const { $schema: _s, ...schema } = z.toJSONSchema(field, { io: 'input', unrepresentable: 'any' }) as Json;
      const deepObject = schema.type === 'object' ? { style: 'deepObject', explode: true } : {};
      out.push({ name, in: 'query', required: !field.safeParse(undefined).success, ...(typeof schema.description === 'string' ? { description: schema.description } : {}), ...deepObject, schema });
    }
  }
  for (const h of route.headers ?? []) out.push({ name: h.name, in: 'header', required: false, description: h.description, schema: h.schema });
  return out;
}

function operation(route: RouteSpec): Json {
  // A key with the read scope is refused (403) on every keyed route that is not a read. Every key is
  // looked up in the database: out of reach, any keyed route answers 503 (Retry-After: 2).
  const always = route.auth ? [...(route.method !== 'get' && !route.readKeyAllowed ? [403] : []), 500, 503] : [];
  const responses: Json = {
    [String(route.success.status)]: {
      description: route.success.description,
      ...(route.success.headers ? { headers: Object.fromEntries(Object.entries(route.success.headers).map(([h, d]) => [h, { description: d, schema: { type: 'string' } }])) } : {}),
      ...(route.success.content ? { content: content(route.success.content) } : {}),
    },
  };
  for (const other of route.alsoSuccess ?? []) responses[String(other.status)] = { description: other.description };
  for (const status of [...route.errors, ...always]) responses[String(status)] = errorResponse(status, route.openai ?? false);
  const params = parameters(route);
  return {
    operationId: route.operationId,
    tags: [route.tag],
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    ...(params.length ? { parameters: params } : {}),
    ...(route.requestBody ? { requestBody: { required: route.requestBody.required, content: content(route.requestBody.content) } } : {}),
    responses,
    // Alternatives: the key, or (where taken) a job token.
    security: route.auth ? [{ apiKey: [] }, ...(route.jobToken ? [{ jobToken: [] }] : [])] : [],
  };
}

/** The OpenAPI 3.1 document of the gateway, built from the zod contracts and the route table. */
export function buildOpenApiDocument(routes: RouteSpec[] = ROUTES): Json {
  const paths: Record<string, Json> = {};
  for (const route of routes) (paths[route.path] ??= {})[route.method] = operation(route);
  return {
    openapi: '3.1.1',
    info: {
      title: 'reelay API',
      version: '1.0.0',
      description:
        'Turns "generate a video" into a reliable job. Send `Authorization: Bearer <api key>` on every /v1 route. Errors use `{"error": {"code", "message", "details"}}`, except on /v1/videos where they use OpenAI\'s `{"error": {"message", "type", "param", "code"}}`.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    servers: [{ url: '/' }],
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: { ...componentSchemas(RESPONSE_SCHEMAS, 'output'), ...componentSchemas(REQUEST_SCHEMAS, 'input') },
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'An API key made by the operator command `reelay keys create`' },
        jobToken: { type: 'apiKey', in: 'query', name: 'token', description: 'A job token from POST /v1/jobs/{id}/token: read access to that one job\'s stream and video, for a browser' },
      },
    },
  };
}
