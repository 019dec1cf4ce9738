export * from './api-key';
export * from './api-key-store';
export * from './api-keys.migration';
import { CreateApiKeys1764300100000 } from './api-keys.migration';

/** The gateway's own tables, run after the event store's migrations (createDataSource's `migrations`). */
export const GATEWAY_MIGRATIONS = [CreateApiKeys1764300100000];
