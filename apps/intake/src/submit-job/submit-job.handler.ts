import type { Catalog, CatalogEntry } from '@reelay/catalog';
import {
  creditStreamId,
  jobStreamId,
  type CommandReply,
  type CreditEvent,
  type EventMetadata,
  type RecordedEvent,
  type SubmitJobCommand,
} from '@reelay/contracts';
import { ConcurrencyError, inTransaction, loadStreamState, lockStreams, rememberStreamState, type EventStore } from '@reelay/event-store';
import {
  creditsDecider,
  creditsLedgerFold,
  type CreditsState,
  decideJob,
  foldRecordedJob,
  initialJobState,
  InsufficientCreditsError,
  jobDecider,
  jobIdForIdempotencyKey,
  type JobState,
  newJobId,
  requestHash,
} from '@reelay/job-domain';
import type { QueryRunner } from 'typeorm';
import { commandMetadata } from '../shared/command-metadata';
import { loadJob, publicJob } from '../shared/job-stream';
import { ok, refuse } from '../shared/replies';
import { settlementOf } from '../settle-credits/settle-credits.handler';
import { refusedWithLookup, type HostResolver } from '@reelay/net-guard';
import { dropDeadline, recordDeadline } from '../shared/job-deadlines';

export interface SubmitJobDeps {
  store: EventStore;
  catalog: Catalog;
  now: () => Date;
  /** OUTBOUND_ALLOW_HOSTS: dev/test hosts a webhook URL may name although they are local. */
  outboundAllowHosts?: readonly string[];
  /** Resolves a webhook URL's host at submit (tests replace it); net-guard's userHostResolver (DNS asked directly) by default. */
  resolver?: HostResolver;
}

/** A submit waits this long at most for the webhook host's addresses, then leaves the check to each delivery. */
const WEBHOOK_LOOKUP_TIMEOUT_MS = 2000;

const MAX_ATTEMPTS = 8;

export interface SubmitJobOptions {
  /** Told once a new job is committed (not for a replayed Idempotency-Key): its JobSubmitted and state. */
  onCreated?: (submitted: RecordedEvent, job: JobState) => void;
}

/**
 * Submit: catalog check (422), credit hold (402), then the job exists as `queued`. The hold on the
 * user's ledger and JobSubmitted are appended in one atomic append, so there is never a job without
 * its hold or a hold without its job; the ledger's expected version keeps the balance from going
 * negative under concurrent submits. With an Idempotency-Key the job id is derived from the key,
 * so the job stream's "must not exist" check is what detects a repeat.
 *
 * First optimistically, on the ledger state this process last saw (no read when it has one) and
 * in the shared group commit: one statement for many submits; after a conflict, again on the
 * committed tail, a few times. A stale state cannot be committed (the expected version fails), and
 * is never the reason for a refusal: a ledger that keeps moving, or a balance that looks too low,
 * goes to the locked path, which decides on the ledger as committed.
 */
export async function submitJob(deps: SubmitJobDeps, cmd: SubmitJobCommand, opts: SubmitJobOptions = {}): Promise<CommandReply> {
  const { request, userId } = cmd;
  // A regenerate's parent is part of what was asked: the same Idempotency-Key for another parent is another request (409).
  const hash = requestHash(cmd.parentJobId ? { ...request, parentJobId: cmd.parentJobId } : request);
  const jobId = cmd.idempotencyKey ? jobIdForIdempotencyKey(userId, cmd.idempotencyKey) : newJobId(deps.now());
  // A repeat is answered before the request is checked again: a retry gets its job even if the
  // catalog or the webhook host's addresses changed since, and another body gets 409, valid or not.
  if (cmd.idempotencyKey) {
    const existing = await replayIfSubmitted(deps.store, jobId, userId, hash);
    if (existing) return existing;
  }
  const webhookRefused = request.webhookUrl
    ? await refusedWithLookup(request.webhookUrl, { allowHosts: deps.outboundAllowHosts, resolver: deps.resolver, lookupTimeoutMs: WEBHOOK_LOOKUP_TIMEOUT_MS })
    : null;
  if (webhookRefused) {
    // Every delivery would be refused (notification checks again before each one, as DNS may change): say so now.
    return refuse('invalid_request', `The webhook URL cannot be used. ${webhookRefused.message}`, [{ path: 'webhookUrl', message: webhookRefused.message }]);
  }
  const unsupported = deps.catalog.unsupportedSettings(request);
  if (unsupported.length) {
    const unknownModel = unsupported.some((d) => d.path === 'model');
    return refuse(unknownModel ? 'invalid_request' : 'unsupported_settings', unsupported.map((d) => d.message).join(' '), unsupported);
  }
  const model = deps.catalog.get(request.model)!;
  const amount = deps.catalog.price(request.model, request.durationSeconds);
  const metadata = commandMetadata(cmd);
  const submit: Submission = { deps, userId, jobId, amount, metadata, data: submittedData(cmd, model, jobId, amount, hash), onCreated: opts.onCreated };
  // Before the job exists, so that no job is ever without its deadline (the sweep moves the row to the logged time).
  if (request.cancelAfterSeconds) {
    const now = deps.now();
    await recordDeadline(deps.store.dataSource, jobId, userId, new Date(now.getTime() + request.cancelAfterSeconds * 1000), now);
    const reply = await submitRecorded(submit, cmd, hash);
    // A submit refused (402, say) made no job: its deadline goes with it rather than wait for the sweep.
    // (A 409 for another body under the same key may answer for a job that exists, with its own row.)
    if (!reply.ok && !(await loadJob(deps.store, jobId)).state.exists) await dropDeadline(deps.store.dataSource, jobId, now);
    return reply;
  }
  return submitRecorded(submit, cmd, hash);
}

/** Appends the job and its credit hold: optimistically first, then under the ledger's lock. */
async function submitRecorded(submit: Submission, cmd: SubmitJobCommand, hash: string): Promise<CommandReply> {
  const { deps, userId, jobId } = submit;
  for (let attempt = 1; ; attempt++) {
    if (cmd.idempotencyKey && attempt > 1) {
      const existing = await replayIfSubmitted(deps.store, jobId, userId, hash);
      if (existing) return existing;
    }
    try {
      if (attempt === 1) {
        const reply = await submitOptimistically(submit);
        if (reply) return reply;
      }
      return await submitUnderLock(submit);
    } catch (err) {
      if (!(err instanceof ConcurrencyError) || attempt >= MAX_ATTEMPTS) throw err;
      // The same idempotent request raced us to the job stream: the replay check above answers it.
    }
  }
}

interface Submission {
  deps: SubmitJobDeps;
  userId: string;
  jobId: string;
  amount: number;
  metadata: EventMetadata;
  data: ReturnType<typeof submittedData>;
  onCreated?: SubmitJobOptions['onCreated'];
}

/**
 * Optimistic tries before the locked path. A conflict on the ledger most often means a settle of
 * this user's earlier job committed meanwhile (a user with many jobs in flight settles one while
 * submitting the next); the next try, on the committed tail, then succeeds. The locked path holds
 * the ledger's lock for a transaction of several round trips, and every group commit that carries
 * an append to that ledger waits for it, with the other jobs' appends in the same group.
 */
const OPTIMISTIC_TRIES = 3;

/** The reply, or null when the ledger kept moving or looked too low (then: the locked path). */
async function submitOptimistically(s: Submission): Promise<CommandReply | null> {
  const ledgerId = creditStreamId(s.userId);
  for (let tries = 1; tries <= OPTIMISTIC_TRIES; tries++) {
    // First on the state this process holds (no read when it has one); after a conflict, on the committed tail.
    const ledger = await loadStreamState(s.deps.store, ledgerId, creditsLedgerFold, tries === 1 ? { atLeastVersion: 0 } : {});
    const holds = decideHolds(s, ledger.state);
    if (holds instanceof InsufficientCreditsError) return null;
    try {
      const { reply, remember } = await appendSubmission(s, ledger, holds);
      remember();
      return reply;
    } catch (err) {
      if (!(err instanceof ConcurrencyError && err.streamId === ledgerId)) throw err;
    }
  }
  return null;
}

/**
 * The ledger is read, decided on and appended to under its stream lock, so concurrent submits by
 * one user queue up instead of failing optimistic races.
 */
async function submitUnderLock(s: Submission): Promise<CommandReply> {
  const ledgerId = creditStreamId(s.userId);
  const { reply, remember } = await inTransaction(s.deps.store.dataSource, async (tx) => {
    // The job stream too, in key order: its append below must not take a lock after the ledger's.
    await lockStreams(tx, [ledgerId, jobStreamId(s.jobId)]);
    // Under the lock the tail read sees every committed ledger event: the cached fold is only a shortcut.
    const ledger = await loadStreamState(s.deps.store, ledgerId, creditsLedgerFold, { tx });
    let holds = decideHolds(s, ledger.state);
    let settled: CreditEvent[] = [];
    if (holds instanceof InsufficientCreditsError && Object.keys(ledger.state.holds).length > 0) {
      settled = await settleFinishedHolds(s, ledger.state, tx);
      if (settled.length > 0) holds = decideHolds(s, settled.reduce(creditsLedgerFold.evolve, ledger.state));
    }
    if (holds instanceof InsufficientCreditsError) {
      // A repeated Idempotency-Key whose job was created since the replay check is answered as a
      // replay (the loop above), not refused: the ledger no longer knows the jobs it settled.
      const jobVersion = await s.deps.store.streamVersion(jobStreamId(s.jobId), { tx });
      if (jobVersion > 0) throw new ConcurrencyError(jobStreamId(s.jobId), 0, jobVersion);
      return { reply: refuse('insufficient_credits', `This video costs ${holds.needed} credits and your balance is ${holds.available}.`), remember: () => undefined };
    }
    return appendSubmission(s, ledger, [...settled, ...holds], tx);
  });
  // Only once committed: a rolled-back append must not be remembered.
  remember();
  return reply;
}

/** Holds looked at by one refused submit: a user's oldest, which are the likeliest to have ended. */
const HOLDS_CHECKED = 100;

/**
 * The settlements of jobs that ended but whose end intake-credits has not taken yet (it follows the
 * log asynchronously, seconds behind, longer under a backlog): decided here, in the submit's own
 * append, so that a user who submits again right after a failure is not refused for credits the
 * failure gave back. An ended job stays ended, so its stream needs no lock.
 */
async function settleFinishedHolds(s: Submission, ledger: CreditsState, tx: QueryRunner): Promise<CreditEvent[]> {
  const jobIds = Object.keys(ledger.holds).slice(0, HOLDS_CHECKED);
  const streams = await s.deps.store.readStreams(jobIds.map(jobStreamId), { tx });
  const settled: CreditEvent[] = [];
  let state = ledger;
  for (const jobId of jobIds) {
    const type = settlementOf(foldRecordedJob(streams.get(jobStreamId(jobId)) ?? []).state);
    if (!type) continue;
    const events = creditsDecider.decide({ type, jobId, now: s.deps.now() }, state);
    settled.push(...events);
    state = events.reduce(creditsLedgerFold.evolve, state);
  }
  return settled;
}

function decideHolds(s: Submission, ledger: CreditsState): CreditEvent[] | InsufficientCreditsError {
  try {
    return creditsDecider.decide({ type: 'HoldCredits', userId: s.userId, jobId: s.jobId, amount: s.amount, now: s.deps.now() }, ledger);
  } catch (err) {
    if (err instanceof InsufficientCreditsError) return err;
    throw err;
  }
}

/**
 * The hold (after any settlements decided with it) and JobSubmitted in one atomic append at the ledger version decided on, with the step
 * that caches the new states and tells `onCreated` (for the caller to run once the append is committed).
 */
async function appendSubmission(
  s: Submission,
  ledger: { state: CreditsState; version: number },
  ledgerEvents: CreditEvent[],
  tx?: QueryRunner,
): Promise<{ reply: CommandReply; remember: () => void }> {
  const ledgerId = creditStreamId(s.userId);
  const submitted = decideJob({ type: 'SubmitJob', now: s.deps.now(), data: s.data }, initialJobState());
  const [ledgerResult, jobResult] = await s.deps.store.appendMany(
    [
      { streamId: ledgerId, expectedVersion: ledger.version, events: ledgerEvents.map((e) => ({ ...e, metadata: s.metadata })) },
      { streamId: jobStreamId(s.jobId), expectedVersion: 0, events: submitted.map((e) => ({ ...e, metadata: s.metadata })) },
    ],
    { tx },
  );
  const job = foldRecordedJob(jobResult.events);
  const remember = () => {
    rememberStreamState(s.deps.store, creditsLedgerFold, ledgerId, { state: ledgerEvents.reduce(creditsLedgerFold.evolve, ledger.state), version: ledgerResult.nextExpectedVersion }, ledger.version);
    s.deps.store.states.set(jobDecider, jobStreamId(s.jobId), job.state, job.version);
    s.onCreated?.(jobResult.events[0], job.state);
  };
  return { reply: ok(publicJob(job)), remember };
}

async function replayIfSubmitted(store: EventStore, jobId: string, userId: string, hash: string): Promise<CommandReply | null> {
  const job = await loadJob(store, jobId);
  if (!job.state.exists) return null;
  if (job.state.userId !== userId || job.state.requestHash !== hash) {
    return refuse('idempotency_conflict', 'This Idempotency-Key was already used with a different request.');
  }
  return ok(publicJob(job));
}

function submittedData(cmd: SubmitJobCommand, model: CatalogEntry, jobId: string, amount: number, hash: string) {
  const { request, userId } = cmd;
  return {
    jobId,
    userId,
    model: model.id,
    provider: model.providers[0],
    prompt: request.prompt,
    negativePrompt: request.negativePrompt ?? null,
    aspectRatio: request.aspectRatio,
    durationSeconds: request.durationSeconds,
    resolution: request.resolution ?? null,
    seed: request.seed ?? null,
    referenceImage: request.referenceImage ?? null,
    webhookUrl: request.webhookUrl ?? null,
    ...(request.webhookEvents ? { webhookEvents: request.webhookEvents } : {}),
    metadata: request.metadata ?? {},
    creditsEstimated: amount,
    requestHash: hash,
    ...(cmd.parentJobId ? { parentJobId: cmd.parentJobId } : {}),
    ...(request.cancelAfterSeconds ? { cancelAfterSeconds: request.cancelAfterSeconds } : {}),
  };
}
