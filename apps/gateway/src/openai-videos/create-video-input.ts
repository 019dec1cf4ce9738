import { detailsFromIssues, OpenAICreateVideoJson } from '@reelay/contracts';
import { sniffImage } from '@reelay/media';
import type { Request } from 'express';
import { ApiException, invalidRequest } from '../errors/api-exception';
import type { GatewayConfig } from '../config/gateway-config';
import { mediaType, readBody, readJsonBody } from '../http/read-body';
import { assertStorableText } from '../http/storable-text';

export interface CreateVideoInput {
  body: OpenAICreateVideoJson;
  /** The multipart `input_reference` file. */
  file?: { contentType: string; data: Buffer };
}

const invalid = (issues: Parameters<typeof detailsFromIssues>[0]) => invalidRequest('The request is not valid.', detailsFromIssues(issues));

/**
 * POST /v1/videos as JSON or multipart/form-data (the openai SDK sends multipart since v6.28).
 * Multipart is parsed with the platform's own FormData reader; nested fields arrive with bracket
 * keys (`input_reference[image_url]`), as the SDK encodes them.
 */
export async function readCreateVideoInput(req: Request, config: GatewayConfig): Promise<CreateVideoInput> {
  const type = mediaType(req);
  // Room for an image of up to ASSET_MAX_BYTES inline as a base64 data: URL (4 characters per 3
  // bytes), in a JSON body or a multipart field; a multipart file part is held to ASSET_MAX_BYTES below.
  const limit = config.JSON_BODY_LIMIT_BYTES + Math.ceil(config.ASSET_MAX_BYTES / 3) * 4;
  if (type !== 'multipart/form-data') {
    const parsed = OpenAICreateVideoJson.safeParse(await readJsonBody(req, limit));
    if (!parsed.success) throw invalid(parsed.error.issues);
    return { body: parsed.data };
  }
  const raw = await readBody(req, limit);
  let form: FormData;
  try {
    form = await new globalThis.Request('http://form.invalid/', { method: 'POST', headers: { 'content-type': String(req.headers['content-type']) }, body: new Uint8Array(raw) }).formData();
  } catch {
    throw invalidRequest('The multipart body could not be read.');
  }
  // No prototype: a field named like one of Object's members (`constructor`, `__proto__`) is kept
  // as sent, and refused by the schema as an unknown field, not skipped.
  const fields: Record<string, unknown> = Object.create(null);
  let file: CreateVideoInput['file'];
  for (const [key, value] of form) {
    if (key === 'input_reference' && typeof value !== 'string') {
      assertAssetSize(value.size, config);
      const data = Buffer.from(await value.arrayBuffer());
      file = { contentType: fileType(value.type, data), data };
      continue;
    }
    const nested = /^input_reference\[(\w+)\]$/.exec(key);
    if (nested) {
      const ref = (fields.input_reference ??= {}) as Record<string, unknown>;
      // `input_reference=text` next to `input_reference[x]=...`: a string cannot take fields.
      if (typeof ref !== 'object') throw invalidRequest('The request is not valid.', [{ path: 'input_reference', message: 'give a file or an object, not both' }]);
      ref[nested[1]] = typeof value === 'string' ? value : undefined;
    } else if (typeof value !== 'string') {
      // A text field sent as a file part (curl's `-F prompt=@file`): its name, not "(file)" as its value.
      throw invalidRequest('The request is not valid.', [{ path: key, message: `send ${key} as a text field, not a file` }]);
    } else if (!Object.hasOwn(fields, key)) {
      fields[key] = value;
    }
  }
  assertStorableText(fields);
  if (file && fields.input_reference !== undefined) throw invalidRequest('The request is not valid.', [{ path: 'input_reference', message: 'give a file or a reference, not both' }]);
  const parsed = OpenAICreateVideoJson.safeParse(fields);
  if (!parsed.success) throw invalid(parsed.error.issues);
  return { body: parsed.data, file };
}

/** 413 for an inline reference image over the asset limit, as POST /v1/assets answers. */
export function assertAssetSize(bytes: number, config: GatewayConfig): void {
  if (bytes > config.ASSET_MAX_BYTES) throw new ApiException('payload_too_large', `input_reference must be at most ${config.ASSET_MAX_BYTES} bytes.`);
}

/**
 * A file part's type. SDKs send a file given without a type (the openai SDK's `toFile(buffer,
 * name)`) as `application/octet-stream`: that says nothing, so the bytes decide; any other
 * declared type must match them (inspectUpload).
 */
function fileType(declared: string, data: Buffer): string {
  const type = declared.split(';')[0].trim().toLowerCase();
  if (type === 'image/jpg') return 'image/jpeg'; // a common misspelling, taken as a data: URL takes it
  if (type !== '' && type !== 'application/octet-stream') return type;
  return sniffImage(data)?.contentType ?? 'application/octet-stream';
}
