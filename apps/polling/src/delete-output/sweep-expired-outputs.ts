import { isTerminal, jobStreamId } from '@reelay/contracts';
import { handle } from '@reelay/event-store';
import { decideJob, IllegalTransitionError, jobDecider, type JobState } from '@reelay/job-domain';
import { jobIdOfOutputKey, jobIdOfPosterKey, outputKey, posterKey, removeJobOutput } from '@reelay/storage';
import type { PollingDeps } from '../polling.deps';

export interface RetentionRound {
  /** Outputs past their expiry: `JobOutputDeleted` recorded (now or by an earlier round) and the file removed. */
  deleted: number;
  /** Files no succeeded job points at (copied for a job that then failed or was canceled, or of no job at all), and posters whose video is gone. */
  orphansRemoved: number;
  /** Files that could not be handled this round (tried again after FAILED_RETRY_MS). */
  failed: number;
  /** The round stopped at its limit: more may be due at once. */
  more: boolean;
}

/** A poster is remembered under its own name (`<job>.poster`), apart from its video. */
function rememberedAs(key: string): string | null {
  const jobId = jobIdOfOutputKey(key);
  if (jobId) return jobId;
  const posterOf = jobIdOfPosterKey(key);
  return posterOf && `${posterOf}.poster`;
}

/** A walk left open longer than this is not resumed but begun again. */
const STALE_WALK_MS = 60 * 60_000;

/** A file that failed, or of an unfinished job, is left alone this long, so it cannot hold up the others. */
const FAILED_RETRY_MS = 10 * 60_000;

/**
 * With outputs kept for good, the files no succeeded job points at are still removed once this old.
 * Such a file is a copy that landed after its job ended otherwise (canceled during the download, or
 * its video deleted meanwhile) and whose own cleanup a crash or a failed removal cut short: the
 * terminal event's handler ran before the file existed, so nothing else would ever remove it.
 */
export const ORPHAN_AGE_MS = 60 * 60_000;

/**
 * Deletes the outputs whose retention has ended, and files no succeeded job points at (see ORPHAN_AGE_MS). Storage is walked for files older than the
 * retention (a file is written before its job succeeds, so every expired output is among them);
 * each job then decides by the `expiresAt` its output was stored with. The deletion is recorded
 * before the file goes, so a crash in between leaves a file the next round removes (the job
 * already says deleted), never a job that points at a missing file without saying so. A file of
 * an unfinished job is left alone: its check may be about to record it.
 *
 * A round handles at most `maxJobs` files that need their job read, so it ends within seconds
 * (it runs under a lock held by an idle transaction, see onOneReplica) and a stop waits for little.
 * Files whose job said "not yet" (an output stored with a later expiry, or with none: kept) are
 * remembered with the time to look again, so later rounds walk past them without a read. A round
 * that stops at its limit leaves its walk of the directory open, and the next round of this process
 * goes on from there: a backlog of N files costs one walk, not N / maxJobs walks of N files each.
 */
export class ExpiredOutputsSweep {
  private readonly skipUntil = new Map<string, number>();
  /** The walk a round stopped in, when it began, and the remembered files it has passed so far. */
  private walk: { keys: AsyncIterator<string>; startedAt: number; passed: Set<string> } | null = null;
  /** The current round's time, for the walk's skip test. */
  private roundAt = 0;

  constructor(
    private readonly deps: Pick<PollingDeps, 'store' | 'storage' | 'outputRetentionMs' | 'logger'>,
    private readonly maxJobs = 200,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async round(): Promise<RetentionRound> {
    const result: RetentionRound = { deleted: 0, orphansRemoved: 0, failed: 0, more: false };
    const retentionMs = this.deps.outputRetentionMs;
    let read = 0;
    this.roundAt = this.now().getTime();
    // Remembered files this walk passed; after a whole walk, those it did not pass (deleted meanwhile) are forgotten.
    // A walk left long ago (another replica swept meanwhile) is started again rather than resumed mid-directory.
    if (this.walk && this.roundAt - this.walk.startedAt > STALE_WALK_MS) await this.close();
    const walk = (this.walk ??= { keys: this.newWalk(retentionMs ?? ORPHAN_AGE_MS), startedAt: this.roundAt, passed: new Set<string>() });
    // What this walk learns is passed too: a walk that ends forgets only what it did not pass.
    const remember = (name: string, until: number) => {
      this.skipUntil.set(name, until);
      walk.passed.add(name);
    };
    for (;;) {
      if (read === this.maxJobs) {
        result.more = true;
        break;
      }
      // Read one by one, never with for-await's break, which would close the walk this round leaves open.
      const next = await walk.keys.next().catch((err: unknown) => {
        this.walk = null;
        throw err;
      });
      if (next.done) {
        this.walk = null;
        break;
      }
      read++;
      const key = next.value;
      const posterOf = jobIdOfPosterKey(key);
      const jobId = posterOf ?? jobIdOfOutputKey(key)!;
      const name = rememberedAs(key)!;
      try {
        if (posterOf) {
          if (await this.lonePosterRemoved(jobId)) result.orphansRemoved++;
          else remember(name, Number.POSITIVE_INFINITY);
          continue;
        }
        const outcome = await this.sweep(key, jobId);
        if (outcome === 'deleted') result.deleted++;
        else if (outcome === 'orphan') result.orphansRemoved++;
        else remember(jobId, outcome.lookAgainAt);
      } catch (err) {
        result.failed++;
        remember(name, this.now().getTime() + FAILED_RETRY_MS);
        this.deps.logger.warn({ jobId, err: String(err) }, 'could not apply the output retention to this file; trying it again later');
      }
    }
    if (!result.more) for (const name of this.skipUntil.keys()) if (!walk.passed.has(name)) this.skipUntil.delete(name);
    return result;
  }

  /** Ends a walk left open (its directory handle closed): at shutdown, or when it is stale. */
  async close(): Promise<void> {
    const walk = this.walk;
    this.walk = null;
    await walk?.keys.return?.().catch(() => undefined);
  }

  private newWalk(olderThanMs: number): AsyncIterator<string> {
    const skip = (key: string) => {
      const name = rememberedAs(key);
      if (name && this.skipUntil.has(name)) this.walk?.passed.add(name);
      return !name || (this.skipUntil.get(name) ?? 0) > this.roundAt;
    };
    return this.deps.storage.listOlderThan('outputs', olderThanMs, skip)[Symbol.asyncIterator]();
  }

  /**
   * A poster whose video is gone: removed (true). Posters go with their videos (the poster first);
   * one left alone is a gateway's that died between storing it and finding the video deleted meanwhile.
   * One beside its video is kept, and not looked at again by this process: its video's removal takes it.
   */
  private async lonePosterRemoved(jobId: string): Promise<boolean> {
    if (await this.deps.storage.stat(outputKey(jobId))) return false;
    await this.deps.storage.remove(posterKey(jobId));
    return true;
  }

  private async sweep(key: string, jobId: string): Promise<'deleted' | 'orphan' | { lookAgainAt: number }> {
    let seen: JobState | null = null;
    const retention = this.deps.outputRetentionMs !== null;
    const decide = (s: JobState) => {
      seen = s;
      return retention && s.status === 'succeeded' ? decideJob({ type: 'DeleteOutput', reason: 'retention', now: this.now() }, s) : [];
    };
    let state: JobState;
    try {
      ({ state } = await handle(this.deps.store, jobStreamId(jobId), jobDecider, decide));
    } catch (err) {
      if (!(err instanceof IllegalTransitionError)) throw err;
      // Not expired: stored with a later expiry than today's retention gives, or with none (kept).
      const expiresAt = (seen as JobState | null)?.output?.expiresAt;
      return { lookAgainAt: expiresAt ? Date.parse(expiresAt) : Number.POSITIVE_INFINITY };
    }
    if (state.status === 'succeeded') {
      // Kept for good, unless its owner deleted it (a late copy after the deletion's own removal).
      if (!retention && !state.outputDeletedAt) return { lookAgainAt: Number.POSITIVE_INFINITY };
      await removeJobOutput(this.deps.storage, jobId);
      return retention ? 'deleted' : 'orphan';
    }
    if (!state.exists || isTerminal(state.status)) {
      await this.deps.storage.remove(key);
      return 'orphan';
    }
    return { lookAgainAt: this.now().getTime() + FAILED_RETRY_MS };
  }
}
