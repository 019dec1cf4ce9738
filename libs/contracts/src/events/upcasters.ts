/**
 * Upcasters turn the stored data of an old schema version into the next version's shape.
 * Keyed by `Type@fromVersion`; the registry applies them in a chain until the current version.
 * Add one here whenever an event's schema version is bumped; stored events are never rewritten.
 */
export type Upcaster = (data: unknown) => unknown;

export const UPCASTERS: Record<string, Upcaster> = {};
