import type { Catalog } from '@reelay/catalog';
import type { EventStore } from '@reelay/event-store';
import type { BlobStorage } from '@reelay/storage';
import type { ImageRules } from './validate-job/check-reference-image';

export const INTAKE_DEPS = Symbol('INTAKE_DEPS');

export interface IntakeDeps {
  store: EventStore;
  storage: BlobStorage;
  catalog: Catalog;
  blockedTerms: string[];
  imageRules: ImageRules;
  now: () => Date;
}
