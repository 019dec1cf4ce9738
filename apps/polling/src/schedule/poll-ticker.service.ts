import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { POLLING_DEPS, type PollingDeps, type TickerOptions } from '../polling.deps';
import { PollTicker } from './poll-ticker';

export const TICKER_OPTIONS = Symbol('TICKER_OPTIONS');

/**
 * Runs the poll ticker for the life of the app. On shutdown it stops claiming and lets running
 * checks finish before the connections close (hence before-, not on-ApplicationShutdown): a check
 * cut off by a closed pool would keep its lease until it expires.
 */
@Injectable()
export class PollTickerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly ticker: PollTicker;

  constructor(@Inject(POLLING_DEPS) deps: PollingDeps, @Inject(TICKER_OPTIONS) opts: TickerOptions) {
    this.ticker = new PollTicker(deps, opts);
  }

  onApplicationBootstrap() {
    this.ticker.start();
  }

  async beforeApplicationShutdown() {
    await this.ticker.stop();
  }
}
