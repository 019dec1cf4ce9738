import { Controller, Get, Header, HttpCode, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import type { Metrics } from '../metrics/registry';

export const READINESS_CHECKS = Symbol('READINESS_CHECKS');
export const METRICS = Symbol('METRICS');

/** A named dependency check; resolves true when the dependency answers in time. */
export type ReadinessChecks = Record<string, () => Promise<boolean>>;

const CHECK_TIMEOUT_MS = 2000;

async function withTimeout(check: () => Promise<boolean>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      check().catch(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), CHECK_TIMEOUT_MS))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

@Controller()
export class OpsController {
  constructor(
    @Inject(READINESS_CHECKS) private readonly checks: ReadinessChecks,
    @Inject(METRICS) private readonly metrics: Metrics,
  ) {}

  @Get('health/live')
  @HttpCode(200)
  live() {
    return { status: 'ok' };
  }

  @Get('health/ready')
  async ready(@Res() res: Response) {
    const entries = await Promise.all(Object.entries(this.checks).map(async ([name, check]) => [name, (await withTimeout(check)) ? 'up' : 'down'] as const));
    const checks = Object.fromEntries(entries);
    const ok = entries.every(([, s]) => s === 'up');
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable', checks });
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4')
  async scrape() {
    return this.metrics.registry.metrics();
  }
}
