import { Inject, Injectable, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { commandSubjects } from '@reelay/contracts';
import { serveCommands, type CommandServer, type NatsConnection } from '@reelay/messaging';
import { POLLING_DEPS, type PollingDeps } from '../polling.deps';
import { handleProviderCallback } from './provider-callback.handler';

export const POLLING_RUNTIME = Symbol('POLLING_RUNTIME');
export interface PollingRuntime {
  nc: NatsConnection;
  prefix: string;
}

/** Serves the gateway's forwarded provider callbacks (core NATS, queue group shared by replicas). */
@Injectable()
export class ProviderCallbackServer implements OnModuleInit, BeforeApplicationShutdown {
  private server: CommandServer | null = null;

  constructor(
    @Inject(POLLING_DEPS) private readonly deps: PollingDeps,
    @Inject(POLLING_RUNTIME) private readonly rt: PollingRuntime,
  ) {}

  onModuleInit() {
    this.server = serveCommands(this.rt.nc, commandSubjects(this.rt.prefix).providerCallback, 'polling', (payload) => handleProviderCallback(this.deps, payload), {
      onError: (err, subject) => this.deps.logger.error({ err, subject }, 'provider callback failed'),
    });
  }

  /** Before InfraLifecycle closes NATS and PostgreSQL (onApplicationShutdown, run side by side): callbacks in flight finish first. */
  async beforeApplicationShutdown() {
    await this.server?.close();
  }
}
