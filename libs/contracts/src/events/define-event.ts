import { z } from 'zod';

/** One version of one event type: its name, its schema version and the shape of its data. */
export interface EventDefinition<T extends string = string, S extends z.ZodType = z.ZodType> {
  readonly type: T;
  readonly schemaVersion: number;
  readonly data: S;
}

export function defineEvent<T extends string, S extends z.ZodType>(type: T, schemaVersion: number, data: S): EventDefinition<T, S> {
  return { type, schemaVersion, data };
}

/** A typed event as the domain sees it: `{ type, data }`, always at its current schema version. */
export type DomainEventOf<D> = D extends EventDefinition<infer T, infer S> ? { type: T; data: z.infer<S> } : never;
