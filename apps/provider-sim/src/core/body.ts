import type { IncomingMessage } from 'node:http';

export interface UploadedFile {
  filename: string;
  type: string;
  size: number;
}

export interface ParsedBody {
  raw: Buffer;
  /** JSON object, or multipart/urlencoded fields with `a[b]` bracket keys expanded into nested objects. */
  fields: Record<string, unknown>;
  kind: 'json' | 'multipart' | 'form' | 'empty' | 'other';
  /** Set when the JSON body did not parse. */
  invalidJson?: boolean;
}

export async function readBody(req: IncomingMessage): Promise<ParsedBody> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (raw.length === 0) return { raw, fields: {}, kind: 'empty' };
  if (type.includes('application/json') || type === '') {
    try {
      const v: unknown = JSON.parse(raw.toString('utf8'));
      return { raw, fields: v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {}, kind: 'json' };
    } catch {
      return { raw, fields: {}, kind: 'json', invalidJson: true };
    }
  }
  if (type.startsWith('multipart/form-data') || type.startsWith('application/x-www-form-urlencoded')) {
    // undici's Response#formData parses both encodings (Node >= 18).
    const form = await new Response(raw, { headers: { 'content-type': req.headers['content-type'] ?? '' } }).formData();
    const fields: Record<string, unknown> = {};
    for (const [key, value] of form.entries()) {
      const v: unknown =
        typeof value === 'string' ? value : ({ filename: value.name, type: value.type, size: value.size } satisfies UploadedFile);
      setBracketPath(fields, key, v);
    }
    return { raw, fields, kind: type.startsWith('multipart') ? 'multipart' : 'form' };
  }
  return { raw, fields: {}, kind: 'other' };
}

/** `input_reference[image_url]` → fields.input_reference.image_url; `tags[]` → array push. */
function setBracketPath(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.replace(/\]/g, '').split('[');
  let node: Record<string, unknown> | unknown[] = target;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    const last = i === parts.length - 1;
    if (Array.isArray(node)) {
      if (last) node.push(value);
      else {
        const child = {};
        node.push(child);
        node = child;
      }
      continue;
    }
    if (last) {
      node[part] = value;
    } else {
      const nextIsArray = parts[i + 1] === '';
      node[part] ??= nextIsArray ? [] : {};
      node = node[part] as Record<string, unknown> | unknown[];
    }
  }
}
