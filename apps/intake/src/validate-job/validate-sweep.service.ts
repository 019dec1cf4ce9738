import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { Ticker } from '@reelay/service-kit';
import { INTAKE_RUNTIME, type IntakeRuntime } from '../command-server';
import { INTAKE_DEPS, type IntakeDeps } from '../intake.deps';
import { VALIDATE_SWEEP_EVERY_MS, validateUnvalidated } from './validate-sweep';

/** Runs the validation sweep (see validateUnvalidated) every few minutes for the life of the app. */
@Injectable()
export class ValidateSweepService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly ticker: Ticker;

  constructor(@Inject(INTAKE_DEPS) deps: IntakeDeps, @Inject(INTAKE_RUNTIME) runtime: IntakeRuntime) {
    const logger = runtime.logger;
    this.ticker = new Ticker({
      round: async () => void (await validateUnvalidated({ ...deps, logger })),
      intervalMs: VALIDATE_SWEEP_EVERY_MS,
      onError: (err) => logger.warn({ err: String(err) }, 'validation sweep failed; trying again later'),
    });
  }

  onApplicationBootstrap() {
    this.ticker.start();
  }

  async beforeApplicationShutdown() {
    await this.ticker.stop();
  }
}
