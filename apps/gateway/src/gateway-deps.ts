import type { Catalog } from '@reelay/catalog';
import type { EventStore } from '@reelay/event-store';
import type { NatsConnection } from '@reelay/messaging';
import type { Logger } from '@reelay/service-kit';
import type { BlobStorage } from '@reelay/storage';
import type { DataSource } from 'typeorm';
import type { GatewayConfig } from './config/gateway-config';

/** Everything the gateway's controllers need, created once at start-up (see build-gateway.ts). */
export interface GatewayDeps {
  config: GatewayConfig;
  dataSource: DataSource;
  store: EventStore;
  nc: NatsConnection;
  logger: Logger;
  catalog: Catalog;
  storage: BlobStorage;
}

export const GATEWAY_DEPS = Symbol('GATEWAY_DEPS');
