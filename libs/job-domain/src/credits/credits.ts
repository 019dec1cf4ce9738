import type { CreditEvent } from '@reelay/contracts';
import type { Decider } from '../shared/decider';

export interface CreditsState {
  userId: string;
  granted: number;
  settled: number;
  /** Credits held for jobs in flight, by job id. */
  holds: Record<string, number>;
  /** Jobs whose hold was settled or released: a repeat is a no-op, never a second charge. */
  closed: Record<string, 'settled' | 'released'>;
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

export const initialCreditsState = (): CreditsState => ({ userId: '', granted: 0, settled: 0, holds: {}, closed: {} });

export function availableCredits(state: CreditsState): number {
  const held = Object.values(state.holds).reduce((a, b) => a + b, 0);
  return state.granted - state.settled - held;
}

export function decideCredits(command: CreditsCommand, state: CreditsState): CreditEvent[] {
  const at = command.now.toISOString();
  switch (command.type) {
    case 'GrantCredits':
      return [{ type: 'CreditsGranted', data: { userId: command.userId, amount: command.amount, at } }];
    case 'HoldCredits': {
      if (command.jobId in state.holds || command.jobId in state.closed) return [];
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
      return { ...state, userId, holds: { ...state.holds, [event.data.jobId]: event.data.amount } };
    case 'CreditsSettled': {
      const { [event.data.jobId]: _, ...holds } = state.holds;
      return { ...state, userId, holds, settled: state.settled + event.data.amount, closed: { ...state.closed, [event.data.jobId]: 'settled' } };
    }
    case 'CreditsReleased': {
      const { [event.data.jobId]: _, ...holds } = state.holds;
      return { ...state, userId, holds, closed: { ...state.closed, [event.data.jobId]: 'released' } };
    }
  }
}

export const creditsDecider: Decider<CreditsCommand, CreditsState, CreditEvent> = {
  decide: decideCredits,
  evolve: evolveCredits,
  initialState: initialCreditsState,
};
