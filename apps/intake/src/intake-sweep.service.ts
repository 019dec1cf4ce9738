import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { SERVICE_INFRA, Ticker, type ServiceInfra } from '@reelay/service-kit';
import { INTAKE_RUNTIME, type IntakeRuntime } from './command-server';
import { INTAKE_DEPS, type IntakeDeps } from './intake.deps';
import { settleDeadLettered } from './settle-credits/settle-dead-lettered';
import { validateUnvalidated } from './validate-job/validate-sweep';

const SWEEP_EVERY_MS = 5 * 60_000;
const SWEEP_LOCK_SQL = `SELECT pg_try_advisory_xact_lock(hashtext('reelay.intake.sweep')::int, 0) AS locked`;

/**
 * Runs `sweep` on one intake replica at a time: the others skip this round rather than validate the
 * same jobs (and fetch the same reference images) side by side. A transaction-level advisory lock
 * (PostgreSQL docs §13.3.5), held by a transaction open for the round, is freed at its end, also
 * when the process dies.
 */
export async function whileHoldingSweepLock(dataSource: DataSource, sweep: () => Promise<void>): Promise<void> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.startTransaction();
    const [{ locked }] = (await runner.query(SWEEP_LOCK_SQL)) as { locked: boolean }[];
    try {
      if (locked) await sweep();
    } finally {
      await runner.commitTransaction();
    }
  } finally {
    await runner.release();
  }
}

/**
 * Intake's safety nets, every few minutes (and at start) for the life of the app: jobs left
 * unvalidated (validateUnvalidated) and holds left unsettled (settleDeadLettered) because their
 * event was dead-lettered.
 */
@Injectable()
export class IntakeSweepService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly ticker: Ticker;

  constructor(@Inject(INTAKE_DEPS) deps: IntakeDeps, @Inject(INTAKE_RUNTIME) runtime: IntakeRuntime, @Inject(SERVICE_INFRA) infra: ServiceInfra) {
    const logger = runtime.logger;
    this.ticker = new Ticker({
      round: () =>
        whileHoldingSweepLock(infra.dataSource, async () => {
          await validateUnvalidated({ ...deps, logger });
          await settleDeadLettered({ ...deps, deadLetters: infra.deadLetters, logger });
        }),
      intervalMs: SWEEP_EVERY_MS,
      onError: (err) => logger.warn({ err: String(err) }, 'intake sweep failed; trying again later'),
    });
  }

  onApplicationBootstrap() {
    this.ticker.start();
  }

  async beforeApplicationShutdown() {
    await this.ticker.stop();
  }
}
