import { Controller, Get, Header, Headers, HttpCode, Inject, Res } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Response } from 'express';
import type { Metrics } from '../metrics/registry';

export const READINESS_CHECKS = Symbol('READINESS_CHECKS');
export const METRICS = Symbol('METRICS');
export const METRICS_TOKEN = Symbol('METRICS_TOKEN');

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
    @Inject(METRICS_TOKEN) private readonly metricsToken: string | null,
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
  async scrape(@Headers('authorization') authorization: string | undefined, @Res({ passthrough: true }) res: Response) {
    if (this.metricsToken && !sameSecret(authorization ?? '', `Bearer ${this.metricsToken}`)) {
      res.status(401).setHeader('WWW-Authenticate', 'Bearer');
      return 'metrics need the METRICS_TOKEN bearer token\n';
    }
    return this.metrics.registry.metrics();
  }
}

/** Compared by their digests, so neither the length nor the content leaks through timing. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (v: string) => createHash('sha256').update(v).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
