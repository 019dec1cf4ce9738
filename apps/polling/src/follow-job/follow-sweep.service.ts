import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { onOneReplica, Ticker } from '@reelay/service-kit';
import { POLLING_DEPS, type PollingDeps } from '../polling.deps';
import { FOLLOW_SWEEP_EVERY_MS, followUnfollowed } from './follow-sweep';

/** Runs the follow sweep (see followUnfollowed) every few minutes for the life of the app. */
@Injectable()
export class FollowSweepService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly ticker: Ticker;

  constructor(@Inject(POLLING_DEPS) deps: PollingDeps) {
    this.ticker = new Ticker({
      // One replica at a time: each would find and follow the same jobs (harmless, the follow is idempotent, but wasted).
      round: async () => void (await onOneReplica(deps.store.dataSource, 'polling-follow-sweep', async () => void (await followUnfollowed(deps)))),
      intervalMs: FOLLOW_SWEEP_EVERY_MS,
      onError: (err) => deps.logger.warn({ err: String(err) }, 'follow sweep failed; trying again later'),
    });
  }

  onApplicationBootstrap() {
    this.ticker.start();
  }

  async beforeApplicationShutdown() {
    await this.ticker.stop();
  }
}
