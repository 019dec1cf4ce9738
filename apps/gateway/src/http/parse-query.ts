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

const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** An own property, even named `__proto__` (an assignment would set the object's prototype instead). */
function own(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * OpenAPI's deepObject parameters (`metadata[orderId]=A1`) as objects: Express's simple query parser
 * keeps the brackets in the name. A name given both ways, or a key twice, fails the schema (400).
 * Names that reach Object.prototype stay as given, and fail the schema too. A key named `constructor`
 * or `prototype` is an ordinary metadata key (a submit takes it), kept as an own property.
 */
function deepObjects(query: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(query)) {
    const deep = /^([A-Za-z]+)\[([^\[\]]+)\]$/.exec(name);
    if (!deep || PROTOTYPE_KEYS.has(deep[1]) || deep[2] === '__proto__') {
      own(out, name, Object.hasOwn(out, name) ? [out[name], value] : value);
      continue;
    }
    const [, param, key] = deep;
    const holder = Object.hasOwn(out, param) ? out[param] : undefined;
    if (holder === undefined) own(out, param, { [key]: value });
    else if (typeof holder === 'object' && holder !== null && !Array.isArray(holder)) own(holder as Record<string, unknown>, key, value);
    else own(out, param, [holder, { [key]: value }]);
  }
  return out;
}
