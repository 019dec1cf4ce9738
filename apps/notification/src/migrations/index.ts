import { CreateWebhookDeliveries1764300500000 } from './1764300500000-create-webhook-deliveries';
import { WebhookLeasesByUser1764300500001 } from './1764300500001-webhook-leases-by-user';
import { WebhookSecretGenerations1764300500002 } from './1764300500002-webhook-secret-generations';
import { WebhookSecretSigningFrom1764300500003 } from './1764300500003-webhook-secret-signing-from';
import { WebhookDeliveriesSettledIndex1764300500004 } from './1764300500004-webhook-deliveries-settled-index';

export { CreateWebhookDeliveries1764300500000 };

/** Tables notification owns, run after the event store's migrations. */
export const NOTIFICATION_MIGRATIONS = [CreateWebhookDeliveries1764300500000, WebhookLeasesByUser1764300500001, WebhookSecretGenerations1764300500002, WebhookSecretSigningFrom1764300500003, WebhookDeliveriesSettledIndex1764300500004];
