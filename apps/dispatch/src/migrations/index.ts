import { CreateProviderSlots1764400000000 } from './1764400000000-create-provider-slots';
import { CreateProviderCircuits1764400000001 } from './1764400000001-create-provider-circuits';

export const dispatchMigrations = [CreateProviderSlots1764400000000, CreateProviderCircuits1764400000001];
