import type { Catalog, CatalogEntry } from '@reelay/catalog';
import {
  creditStreamId,
  jobStreamId,
  type CommandReply,
  type EventMetadata,
  type SubmitJobCommand,
} from '@reelay/contracts';
import { ConcurrencyError, inTransaction, loadStreamState, lockStream, type EventStore } from '@reelay/event-store';
import {
  creditsDecider,
  decideJob,
  foldRecordedJob,
  initialJobState,
  InsufficientCreditsError,
  jobDecider,
  jobIdForIdempotencyKey,
  newJobId,
  requestHash,
} from '@reelay/job-domain';
import { creditsFold } from '../shared/credits-stream';
import { loadJob, publicJob } from '../shared/job-stream';
import { ok, refuse } from '../shared/replies';

export interface SubmitJobDeps {
  store: EventStore;
  catalog: Catalog;
  now: () => Date;
}

const MAX_ATTEMPTS = 8;

/**
 * Submit: catalog check (422), credit hold (402), then the job exists as `queued`. The hold on the
 * user's ledger and JobSubmitted are appended in one transaction, so there is never a job without
 * its hold or a hold without its job; the ledger's expected version keeps the balance from going
 * negative under concurrent submits. With an Idempotency-Key the job id is derived from the key,
 * so the job stream's "must not exist" check is what detects a repeat.
 */
export async function submitJob(deps: SubmitJobDeps, cmd: SubmitJobCommand): Promise<CommandReply> {
  const { request, userId } = cmd;
  const unsupported = deps.catalog.unsupportedSettings(request);
  if (unsupported.length) {
    const unknownModel = unsupported.some((d) => d.path === 'model');
    return refuse(unknownModel ? 'invalid_request' : 'unsupported_settings', unsupported.map((d) => d.message).join(' '), unsupported);
  }
  const model = deps.catalog.get(request.model)!;
  const hash = requestHash(request);
  const jobId = cmd.idempotencyKey ? jobIdForIdempotencyKey(userId, cmd.idempotencyKey) : newJobId(deps.now());
  const amount = deps.catalog.price(request.model, request.durationSeconds);
  const metadata: EventMetadata = { correlationId: cmd.correlationId, userId, ...(cmd.traceparent ? { traceparent: cmd.traceparent } : {}) };

  for (let attempt = 1; ; attempt++) {
    if (cmd.idempotencyKey) {
      const existing = await replayIfSubmitted(deps.store, jobId, userId, hash);
      if (existing) return existing;
    }
    try {
      // The ledger is read, decided on and appended to under its stream lock, so concurrent
      // submits by one user queue up instead of failing optimistic races.
      let remember: (() => void) | undefined;
      const reply = await inTransaction(deps.store.dataSource, async (tx) => {
        await lockStream(tx, creditStreamId(userId));
        const now = deps.now();
        // Under the lock the tail read sees every committed ledger event: the cached fold is only a shortcut.
        const { state: ledger, version: ledgerVersion } = await loadStreamState(deps.store, creditStreamId(userId), creditsFold, { tx });
        let holds;
        try {
          holds = creditsDecider.decide({ type: 'HoldCredits', userId, jobId, amount, now }, ledger);
        } catch (err) {
          if (err instanceof InsufficientCreditsError) {
            return refuse('insufficient_credits', `This video costs ${err.needed} credits and your balance is ${err.available}.`);
          }
          throw err;
        }
        const submitted = decideJob({ type: 'SubmitJob', now, data: submittedData(cmd, model, jobId, amount, hash) }, initialJobState());
        const [ledgerResult, jobResult] = await deps.store.appendMany(
          [
            { streamId: creditStreamId(userId), expectedVersion: ledgerVersion, events: holds.map((e) => ({ ...e, metadata })) },
            { streamId: jobStreamId(jobId), expectedVersion: 0, events: submitted.map((e) => ({ ...e, metadata })) },
          ],
          { tx },
        );
        const job = foldRecordedJob(jobResult.events);
        remember = () => {
          deps.store.states.set(creditsFold, creditStreamId(userId), holds.reduce(creditsFold.evolve, ledger), ledgerResult.nextExpectedVersion);
          deps.store.states.set(jobDecider, jobStreamId(jobId), job.state, job.version);
        };
        return ok(publicJob(job));
      });
      // Only once committed: a rolled-back append must not be remembered.
      remember?.();
      return reply;
    } catch (err) {
      if (!(err instanceof ConcurrencyError) || attempt >= MAX_ATTEMPTS) throw err;
      // The same idempotent request raced us to the job stream: the replay check above answers it.
    }
  }
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
    metadata: request.metadata ?? {},
    creditsEstimated: amount,
    requestHash: hash,
  };
}
