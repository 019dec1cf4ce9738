import { formatReport, runChaos, type ChaosReport } from '../chaos/chaos';

// The chaos driver at CI size: our own processes (every kind, replicas included, the gateway too)
// are killed with SIGKILL and restarted; the run's own nats-server is restarted once and its own
// PostgreSQL cluster is crash-restarted once (the machine's servers are shared with the suites
// running beside this one; the full run, `npm run test:chaos`, restarts those).
let report: ChaosReport;

beforeAll(async () => {
  report = await runChaos({
    jobs: 40, submitWindowMs: 25_000, chaosMs: 30_000, killEveryMs: [800, 1800], restartInfra: false, privateNats: true, privatePostgres: true, settleTimeoutMs: 90_000,
  });
  process.stdout.write(`${formatReport(report)}\n`);
  // Usually about 80 s; the bound covers the worst case of its waits (a chaos window run on to twice
  // its length on a slow machine, the settle, the checks' waits) so a slow run reports, not times out.
}, 330_000);

it('killed processes of every kind along the way', () => {
  for (const [kind, n] of Object.entries(report.kills)) expect({ kind, killed: n > 0 }).toEqual({ kind, killed: true });
  // Once, every replica of one kind at the same time.
  expect(report.outages).toHaveLength(1);
  // Every killed process came back: a start that failed is counted apart, not as a restart.
  expect(report.failedStarts).toEqual([]);
  // Only the driver's kills end a process: a service must live through NATS and PostgreSQL restarts.
  expect(report.unexpectedExits).toEqual([]);
  // And every process stopped cleanly when the run ended (its work drained, its connections closed).
  expect(report.stopProblems).toEqual([]);
  expect(report.restarts.services).toBe(Object.values(report.kills).reduce((a, b) => a + b, 0));
  expect(report.restarts).toMatchObject({ nats: 1, postgres: 1 });
});

it('lost no job and left none stuck', () => {
  expect(report.notAccepted).toBe(0);
  expect(report.clientErrors).toEqual([]);
  expect(report.accepted).toBe(report.jobs);
  expect({ lost: report.lost, stuck: report.stuck }).toEqual({ lost: [], stuck: [] });
  // Kills and restarts make handlers fail and messages come back, but never so often that one is given up on.
  expect(report.deadLetters).toEqual([]);
  expect(report.terminal + report.delayedWithCheck).toBe(report.accepted);
  expect(report.unknownJobs).toEqual([]);
});

// Most jobs of a scenario end as it makes them (the success scenarios succeed); the others only
// with a failure the kills may cause (chaos.ts: CHAOS_FAILURES and each scenario's own).
it('ended the jobs as their scenarios make them, but for the few the chaos may fail', () => {
  expect(report.outcomeViolations).toEqual([]);
  expect(report.byOutcome.succeeded ?? 0).toBeGreaterThan(0);
});

// Runway has neither an idempotency key nor a task list: after a dispatch kill between Runway
// accepting and the log recording it, dispatch fails the job rather than submitting it again.
it('submitted no job twice to a provider', () => {
  // Checked against what the simulator recorded: every job the log says a provider answered is there, under its key.
  expect(report.submissionMismatches).toEqual([]);
  expect(report.duplicates).toEqual([]);
});

it('streamed every status change live over SSE (through gateway kills), replayed it, and delivered each to the webhook, in order', () => {
  // The live followers reconnected after at least one gateway kill, so resuming by Last-Event-ID was exercised.
  expect(report.sseReconnects).toBeGreaterThan(0);
  expect({ sse: report.missingSse, webhooks: report.missingWebhooks, order: report.webhooksOutOfOrder }).toEqual({ sse: [], webhooks: [], order: [] });
});

it('kept credits, streams and the job_view projection consistent with the log', () => {
  expect({ credits: report.creditMismatches, gaps: report.gaps, projection: report.projectionMismatches }).toEqual({ credits: [], gaps: [], projection: [] });
});

// Some jobs are canceled along the way, some while their submit is under way.
it('gave back the capacity slot of every finished job once its provider task was over', () => {
  expect(report.byOutcome.canceled ?? 0).toBeGreaterThan(0);
  expect(report.slotLeaks).toEqual([]);
});
