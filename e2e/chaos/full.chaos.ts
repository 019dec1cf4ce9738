import { formatReport, runChaos } from './chaos';

// Full size, on demand: also restarts this machine's NATS and PostgreSQL once each, which other
// suites running at the same time would notice. CHAOS_JOBS and CHAOS_SECONDS scale it.
it('keeps every promise while processes, NATS and PostgreSQL are killed and restarted', async () => {
  const seconds = Number(process.env.CHAOS_SECONDS ?? 120);
  const report = await runChaos({
    jobs: Number(process.env.CHAOS_JOBS ?? 300),
    submitWindowMs: seconds * 1000 * 0.8,
    chaosMs: seconds * 1000,
    killEveryMs: [1000, 3000],
    restartInfra: process.env.CHAOS_RESTART_INFRA !== '0',
    settleTimeoutMs: 120_000,
    log: (line) => process.stdout.write(`[chaos] ${line}\n`),
  });
  process.stdout.write(`${formatReport(report)}\n`);
  expect({ lost: report.lost, stuck: report.stuck, duplicates: report.duplicates, missingSse: report.missingSse, missingWebhooks: report.missingWebhooks, webhooksOutOfOrder: report.webhooksOutOfOrder, creditMismatches: report.creditMismatches, gaps: report.gaps, projectionMismatches: report.projectionMismatches, slotLeaks: report.slotLeaks, submissionMismatches: report.submissionMismatches, outcomeViolations: report.outcomeViolations, clientErrors: report.clientErrors }).toEqual({ lost: [], stuck: [], duplicates: [], missingSse: [], missingWebhooks: [], webhooksOutOfOrder: [], creditMismatches: [], gaps: [], projectionMismatches: [], slotLeaks: [], submissionMismatches: [], outcomeViolations: [], clientErrors: [] });
  expect(report.notAccepted).toBe(0);
  expect(report.unknownJobs).toEqual([]);
  // The chaos the figures claim happened: every kind killed, every kill restarted, NATS and PostgreSQL once each.
  for (const [kind, n] of Object.entries(report.kills)) expect({ kind, killed: n > 0 }).toEqual({ kind, killed: true });
  expect(report.outages).toHaveLength(1);
  expect(report.deadLetters).toEqual([]);
  expect(report.failedStarts).toEqual([]);
  // Only the driver's kills end a process: a service must live through NATS and PostgreSQL restarts.
  expect(report.unexpectedExits).toEqual([]);
  // And every process stopped cleanly when the run ended (its work drained, its connections closed).
  expect(report.stopProblems).toEqual([]);
  // As in the CI-size run: streams were resumed after gateway kills, and jobs were canceled.
  expect(report.sseReconnects).toBeGreaterThan(0);
  expect(report.byOutcome.canceled ?? 0).toBeGreaterThan(0);
  expect(report.byOutcome.succeeded ?? 0).toBeGreaterThan(0);
  if (process.env.CHAOS_RESTART_INFRA !== '0') expect({ nats: report.restarts.nats, postgres: report.restarts.postgres }).toEqual({ nats: 1, postgres: 1 });
});
