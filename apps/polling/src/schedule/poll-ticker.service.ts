import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { POLLING_DEPS, type PollingDeps, type TickerOptions } from '../polling.deps';
import { PollTicker } from './poll-ticker';

export const TICKER_OPTIONS = Symbol('TICKER_OPTIONS');

/** Runs the poll ticker for the life of the app; on shutdown, stops claiming and finishes running checks. */
@Injectable()
export class PollTickerService implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly ticker: PollTicker;

  constructor(@Inject(POLLING_DEPS) deps: PollingDeps, @Inject(TICKER_OPTIONS) opts: TickerOptions) {
    this.ticker = new PollTicker(deps, opts);
  }

  onApplicationBootstrap() {
    this.ticker.start();
  }

  async onApplicationShutdown() {
    await this.ticker.stop();
  }
}
