import type { CreditEvent } from '@reelay/contracts';
import type { Decider } from '../shared/decider';

export interface CreditsState {
  userId: string;
  granted: number;
  settled: number;
  /** The sum of `holds`. */
  held: number;
  /**
   * Credits held for jobs in flight, by job id. A settled or released job leaves it, so the state
   * grows with the jobs in flight, not with the ledger: a repeated settle or release finds no hold
   * and is a no-op, and a repeated hold cannot be committed (it is appended with JobSubmitted to a
   * job stream that must not exist yet).
   */
  holds: Record<string, number>;
}

export type CreditsCommand =
  | { type: 'GrantCredits'; userId: string; amount: number; now: Date }
  | { type: 'HoldCredits'; userId: string; jobId: string; amount: number; now: Date }
  | { type: 'SettleCredits'; jobId: string; now: Date }
  | { type: 'ReleaseCredits'; jobId: string; now: Date };

export class InsufficientCreditsError extends Error {
  constructor(readonly needed: number, readonly available: number) {
    super(`This job needs ${needed} credits and ${available} are available.`);
    this.name = 'InsufficientCreditsError';
  }
}

export const initialCreditsState = (): CreditsState => ({ userId: '', granted: 0, settled: 0, held: 0, holds: {} });

export function availableCredits(state: CreditsState): number {
  return state.granted - state.settled - state.held;
}

export function decideCredits(command: CreditsCommand, state: CreditsState): CreditEvent[] {
  const at = command.now.toISOString();
  switch (command.type) {
    case 'GrantCredits':
      return [{ type: 'CreditsGranted', data: { userId: command.userId, amount: command.amount, at } }];
    case 'HoldCredits': {
      if (command.jobId in state.holds) return [];
      if (command.amount === 0) return [];
      const available = availableCredits(state);
      if (command.amount > available) throw new InsufficientCreditsError(command.amount, available);
      return [{ type: 'CreditsHeld', data: { userId: command.userId, jobId: command.jobId, amount: command.amount, at } }];
    }
    case 'SettleCredits': {
      const amount = state.holds[command.jobId];
      if (amount === undefined) return [];
      return [{ type: 'CreditsSettled', data: { userId: state.userId, jobId: command.jobId, amount, at } }];
    }
    case 'ReleaseCredits': {
      const amount = state.holds[command.jobId];
      if (amount === undefined) return [];
      return [{ type: 'CreditsReleased', data: { userId: state.userId, jobId: command.jobId, amount, at } }];
    }
  }
}

export function evolveCredits(state: CreditsState, event: CreditEvent): CreditsState {
  const userId = event.data.userId;
  switch (event.type) {
    case 'CreditsGranted':
      return { ...state, userId, granted: state.granted + event.data.amount };
    case 'CreditsHeld':
      return { ...state, userId, held: state.held + event.data.amount, holds: { ...state.holds, [event.data.jobId]: event.data.amount } };
    case 'CreditsSettled':
      return { ...withoutHold(state, event.data.jobId), userId, settled: state.settled + event.data.amount };
    case 'CreditsReleased':
      return { ...withoutHold(state, event.data.jobId), userId };
  }
}

function withoutHold(state: CreditsState, jobId: string): CreditsState {
  const { [jobId]: amount, ...holds } = state.holds;
  return { ...state, held: state.held - (amount ?? 0), holds };
}

/**
 * The fold of a user's credit ledger, one object so that cached ledger states are recognised, and
 * snapshotted: a ledger gains two events per job for as long as the user exists, and a process
 * that has not seen it yet would otherwise fold all of them. Rename the snapshot when the state's
 * shape or `evolveCredits` changes, so that snapshots of the old fold are not used.
 */
export const creditsLedgerFold = {
  evolve: evolveCredits,
  initialState: initialCreditsState,
  snapshot: { name: 'credits-ledger.v2', every: 500 },
};

export const creditsDecider: Decider<CreditsCommand, CreditsState, CreditEvent> = {
  decide: decideCredits,
  evolve: evolveCredits,
  initialState: initialCreditsState,
};
