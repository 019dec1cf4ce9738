import { findUsersByApiKeys } from '@reelay/accounts';
import { WriteBatcher } from '@reelay/event-store';
import type { DataSource } from 'typeorm';

/**
 * Finds the user of each request's API key. Lookups made at the same time share one statement;
 * nothing is cached, so a revoked key is refused from the next request on.
 */
export class ApiKeyLookup {
  private readonly lookups: WriteBatcher<string, string | null>;

  constructor(dataSource: DataSource) {
    this.lookups = new WriteBatcher((keys: string[]) => findUsersByApiKeys(dataSource, keys));
  }

  userFor(key: string): Promise<string | null> {
    return this.lookups.submit(key);
  }
}
