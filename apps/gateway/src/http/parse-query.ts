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
  const given = Object.fromEntries(Object.entries(query).filter(([, value]) => value !== ''));
  const parsed = schema.safeParse(given);
  if (!parsed.success) throw invalidRequest('The query is not valid.', detailsFromIssues(parsed.error.issues));
  return parsed.data;
}
