/** Emmett-style decider: pure functions, time passed in through the command. */
export interface Decider<Command, State, Event> {
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
  initialState(): State;
}

export class IllegalTransitionError extends Error {
  constructor(readonly command: string, readonly from: string, reason?: string) {
    super(`${command} is not allowed when the job is ${from}${reason ? `: ${reason}` : ''}`);
    this.name = 'IllegalTransitionError';
  }
}

export function fold<State, Event>(decider: Pick<Decider<unknown, State, Event>, 'evolve' | 'initialState'>, events: readonly Event[]): State {
  return events.reduce(decider.evolve, decider.initialState());
}
