import { Controller, Get, Header, Inject } from '@nestjs/common';
import { creditStreamId, type CreditBalance } from '@reelay/contracts';
import { loadStreamState } from '@reelay/event-store';
import { availableCredits, creditsLedgerFold } from '@reelay/job-domain';
import { CurrentUser } from '../auth/current-user';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';

@Controller('v1/credits')
export class CreditsController {
  constructor(@Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps) {}

  /** Folded from the user's ledger on every read, so a submit or a job's end shows at once. */
  @Get()
  @Header('Cache-Control', 'no-store')
  async balance(@CurrentUser() userId: string): Promise<CreditBalance> {
    const { state } = await loadStreamState(this.deps.store, creditStreamId(userId), creditsLedgerFold);
    return { object: 'credit_balance', available: availableCredits(state), held: state.held, granted: state.granted, spent: state.settled, jobsHolding: Object.keys(state.holds).length };
  }
}
