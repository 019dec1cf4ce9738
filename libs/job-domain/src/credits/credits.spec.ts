import type { CreditEvent } from '@reelay/contracts';
import { specFor } from '@reelay/testing';
import { availableCredits, creditsDecider, creditsLedgerFold, InsufficientCreditsError } from './credits';

const now = new Date('2026-11-28T12:00:00.000Z');
const at = now.toISOString();
const given = specFor(creditsDecider);
const granted: CreditEvent = { type: 'CreditsGranted', data: { userId: 'u', amount: 100, at } };
const held: CreditEvent = { type: 'CreditsHeld', data: { userId: 'u', jobId: 'j1', amount: 40, at } };

describe('credits decider', () => {
  it('grants', () => given([]).when({ type: 'GrantCredits', userId: 'u', amount: 100, now }).then([granted]));
  it('holds within the balance', () => given([granted]).when({ type: 'HoldCredits', userId: 'u', jobId: 'j1', amount: 40, now }).then([held]));
  it('refuses a hold over the available balance', () =>
    given([granted, held]).when({ type: 'HoldCredits', userId: 'u', jobId: 'j2', amount: 61, now }).thenThrows(InsufficientCreditsError));
  it('holds for the same job once', () => given([granted, held]).when({ type: 'HoldCredits', userId: 'u', jobId: 'j1', amount: 40, now }).then([]));
  it('settles the held amount', () =>
    given([granted, held]).when({ type: 'SettleCredits', jobId: 'j1', now }).then([{ type: 'CreditsSettled', data: { userId: 'u', jobId: 'j1', amount: 40, at } }]));
  it('releases the held amount', () =>
    given([granted, held]).when({ type: 'ReleaseCredits', jobId: 'j1', now }).then([{ type: 'CreditsReleased', data: { userId: 'u', jobId: 'j1', amount: 40, at } }]));
  it('never settles twice or after a release', () => {
    const settled: CreditEvent = { type: 'CreditsSettled', data: { userId: 'u', jobId: 'j1', amount: 40, at } };
    given([granted, held, settled]).when({ type: 'SettleCredits', jobId: 'j1', now }).then([]);
    given([granted, held, settled]).when({ type: 'ReleaseCredits', jobId: 'j1', now }).then([]);
  });
  it('balance is grants minus settlements minus holds', () => {
    const settled: CreditEvent = { type: 'CreditsSettled', data: { userId: 'u', jobId: 'j1', amount: 40, at } };
    const state = [granted, held, settled, { ...held, data: { ...held.data, jobId: 'j2', amount: 10 } } as CreditEvent].reduce(
      creditsDecider.evolve,
      creditsDecider.initialState(),
    );
    expect(availableCredits(state)).toBe(50);
  });
  it('keeps only the jobs in flight, so the state is the same size after any number of finished jobs, and survives JSON (its snapshot)', () => {
    const finished = Array.from({ length: 50 }, (_, i): CreditEvent[] => [
      { type: 'CreditsHeld', data: { userId: 'u', jobId: `j${i}`, amount: 1, at } },
      i % 2 ? { type: 'CreditsSettled', data: { userId: 'u', jobId: `j${i}`, amount: 1, at } } : { type: 'CreditsReleased', data: { userId: 'u', jobId: `j${i}`, amount: 1, at } },
    ]).flat();
    const state = [granted, ...finished, held].reduce(creditsLedgerFold.evolve, creditsLedgerFold.initialState());
    expect(state).toEqual({ userId: 'u', granted: 100, settled: 25, held: 40, holds: { j1: 40 } });
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
    expect(availableCredits(state)).toBe(35);
  });
});
