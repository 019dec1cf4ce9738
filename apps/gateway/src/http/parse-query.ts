import { detailsFromIssues } from '@reelay/contracts';
import type { z } from 'zod';
import { invalidRequest } from '../errors/api-exception';
import { assertStorableText } from './storable-text';

/**
 * A route's query string by its schema, 400 naming what is wrong. A parameter given empty
 * (`?status=&cursor=`, as forms and URL builders send unset fields) counts as not given.
 */
export function parseQuery<S extends z.ZodType>(schema: S, query: Record<string, unknown>): z.infer<S> {
  assertStorableText(query);
  const given = deepObjects(Object.fromEntries(Object.entries(query).filter(([, value]) => value !== '')));
  const parsed = schema.safeParse(given);
  if (!parsed.success) throw invalidRequest('The query is not valid.', detailsFromIssues(parsed.error.issues));
  return parsed.data;
}

/**
 * OpenAPI's deepObject parameters (`metadata[orderId]=A1`) as objects: Express's simple query parser
 * keeps the brackets in the name. A name given both ways, or a key twice, fails the schema (400).
 */
function deepObjects(query: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(query)) {
    const deep = /^([A-Za-z]+)\[([^\[\]]+)\]$/.exec(name);
    if (!deep) {
      out[name] = name in out ? [out[name], value] : value;
      continue;
    }
    const [, param, key] = deep;
    const holder = out[param];
    if (holder === undefined) out[param] = { [key]: value };
    else if (typeof holder === 'object' && holder !== null && !Array.isArray(holder)) (holder as Record<string, unknown>)[key] = value;
    else out[param] = [holder, { [key]: value }];
  }
  return out;
}
