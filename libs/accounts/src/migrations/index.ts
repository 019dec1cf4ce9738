import { CreateApiKeys1764300100000 } from './1764300100000-create-api-keys';
import { ApiKeyScopeAndExpiry1764300100001 } from './1764300100001-api-key-scope-and-expiry';

/** Tables of the accounts library (API keys), run after the event store's migrations. */
export const ACCOUNTS_MIGRATIONS = [CreateApiKeys1764300100000, ApiKeyScopeAndExpiry1764300100001];
