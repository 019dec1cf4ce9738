import { CreateProviderSlots1764400000000 } from './1764400000000-create-provider-slots';
import { CreateProviderCircuits1764400000001 } from './1764400000001-create-provider-circuits';
import { CreateAcquireSlotFunction1764400000002 } from './1764400000002-create-acquire-slot-function';
import { CreateAcquireSlotsFunction1764400000003 } from './1764400000003-create-acquire-slots-function';
import { AcquireSlotsInOnePass1764400000004 } from './1764400000004-acquire-slots-in-one-pass';
import { ProviderSlotsUser1764400000005 } from './1764400000005-provider-slots-user';
import { CreateSubmitBudgets1764400000006 } from './1764400000006-create-submit-budgets';
import { ProviderWaitingLine1764400000007 } from './1764400000007-provider-waiting-line';
import { CreateDispatchErrorStreaks1764400000008 } from './1764400000008-create-dispatch-error-streaks';

export const dispatchMigrations = [CreateProviderSlots1764400000000, CreateProviderCircuits1764400000001, CreateAcquireSlotFunction1764400000002, CreateAcquireSlotsFunction1764400000003, AcquireSlotsInOnePass1764400000004, ProviderSlotsUser1764400000005, CreateSubmitBudgets1764400000006, ProviderWaitingLine1764400000007, CreateDispatchErrorStreaks1764400000008];
