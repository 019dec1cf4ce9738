import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { ServiceInfra } from './service-infra';

export const SERVICE_INFRA = Symbol('SERVICE_INFRA');

/** Closes the relay, NATS and PostgreSQL after Nest has stopped the transports and handlers. */
@Injectable()
export class InfraLifecycle implements OnApplicationShutdown {
  constructor(@Inject(SERVICE_INFRA) private readonly infra: ServiceInfra) {}

  async onApplicationShutdown() {
    await this.infra.close();
  }
}
