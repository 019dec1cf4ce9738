import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { onOneReplica, SERVICE_INFRA, Ticker, type ServiceInfra } from '@reelay/service-kit';
import { INTAKE_RUNTIME, type IntakeRuntime } from './command-server';
import { INTAKE_DEPS, type IntakeDeps } from './intake.deps';
import { settleDeadLettered } from './settle-credits/settle-dead-lettered';
import { validateUnvalidated } from './validate-job/validate-sweep';
import { cancelOverdueJobs } from './cancel-at-deadline/cancel-at-deadline';

const SWEEP_EVERY_MS = 5 * 60_000;

/**
 * Intake's safety nets, every few minutes (and at start) for the life of the app: jobs left
 * unvalidated (validateUnvalidated) and holds left unsettled (settleDeadLettered) because their
 * event was dead-lettered; and, every few seconds, the jobs past their deadline (cancelOverdueJobs).
 */
@Injectable()
export class IntakeSweepService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly ticker: Ticker;
  private readonly deadlines: Ticker;

  constructor(@Inject(INTAKE_DEPS) deps: IntakeDeps, @Inject(INTAKE_RUNTIME) runtime: IntakeRuntime, @Inject(SERVICE_INFRA) infra: ServiceInfra) {
    const logger = runtime.logger;
    this.ticker = new Ticker({
      // One replica at a time, so that no two validate the same jobs (and fetch the same reference images).
      round: async () =>
        void (await onOneReplica(infra.dataSource, 'intake-sweep', async () => {
          // Credits first and on their own: a validation round can be long (image fetches, fits) or
          // fail (its job_view read), and the holds it would hold up are users' money.
          await settleDeadLettered({ ...deps, deadLetters: infra.deadLetters, logger }).catch((err: unknown) =>
            logger.warn({ err: String(err) }, 'settling the holds of dead-lettered job ends failed; trying again next round'),
          );
          await validateUnvalidated({ ...deps, logger });
        })),
      intervalMs: SWEEP_EVERY_MS,
      onError: (err) => logger.warn({ err: String(err) }, 'intake sweep failed; trying again later'),
    });
    this.deadlines = new Ticker({
      // One replica at a time: two would race to cancel the same jobs (the decider makes it harmless, not free).
      round: async () => {
        let more = false;
        await onOneReplica(infra.dataSource, 'intake-deadlines', async () => {
          const round = await cancelOverdueJobs({ ...deps, logger });
          if (round.canceled.length) logger.info({ jobIds: round.canceled }, 'canceled jobs not finished by their deadline (cancelAfterSeconds)');
          more = round.more;
        });
        return more;
      },
      intervalMs: deps.deadlineSweepMs ?? 5_000,
      onError: (err) => logger.warn({ err: String(err) }, 'deadline sweep failed; trying again later'),
    });
  }

  onApplicationBootstrap() {
    this.ticker.start();
    this.deadlines.start();
  }

  async beforeApplicationShutdown() {
    await Promise.all([this.ticker.stop(), this.deadlines.stop()]);
  }
}
