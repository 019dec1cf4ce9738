import { ACCOUNTS_MIGRATIONS } from '@reelay/accounts';

/** The gateway's tables beyond the event store's (API keys), passed to createDataSource's `migrations`. */
export const GATEWAY_MIGRATIONS = [...ACCOUNTS_MIGRATIONS];
