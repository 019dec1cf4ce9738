interface Decider<C, S, E> {
  decide(command: C, state: S): E[];
  evolve(state: S, event: E): S;
  initialState(): S;
}

/**
 * Given/when/then for deciders: `given(events).when(command).then(events)` or `.thenThrows(Error)`.
 * Used by the specs; pure, no I/O.
 */
export function specFor<C, S, E>(decider: Decider<C, S, E>) {
  return (given: E[]) => ({
    when: (command: C) => {
      const run = () => decider.decide(command, given.reduce(decider.evolve, decider.initialState()));
      return {
        // Strict: events are stored as JSON, so a field set to undefined is a field the decider should have left out.
        then: (expected: E[]) => expect(run()).toStrictEqual(expected),
        thenThrows: (errorType: new (...args: never[]) => Error, message?: RegExp) => {
          expect(run).toThrow(errorType);
          if (message) expect(run).toThrow(message);
        },
      };
    },
  });
}
