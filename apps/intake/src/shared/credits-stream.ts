import type { CreditEvent } from '@reelay/contracts';
import { creditsDecider, type CreditsState } from '@reelay/job-domain';

/** The fold of a user's credit ledger, one object so that cached ledger states are recognised. */
export const creditsFold = { evolve: (s: CreditsState, e: CreditEvent) => creditsDecider.evolve(s, e), initialState: creditsDecider.initialState };
