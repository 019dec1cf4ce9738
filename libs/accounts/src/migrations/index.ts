import { CreateApiKeys1764300100000 } from './1764300100000-create-api-keys';

/** Tables of the accounts library (API keys), run after the event store's migrations. */
export const ACCOUNTS_MIGRATIONS = [CreateApiKeys1764300100000];
