import { Controller, Get, Inject, Param } from '@nestjs/common';
import { commandSubjects, WebhookDeliveriesReply, type JobWebhookDeliveries } from '@reelay/contracts';
import { CurrentUser } from '../auth/current-user';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';
import { askService } from '../service-requests/ask-service';
import { JobReader } from '../jobs/job-reader';

@Controller('v1/jobs')
export class JobWebhooksController {
  constructor(
    @Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps,
    private readonly jobs: JobReader,
  ) {}

  /** What the job's webhook endpoint was sent, with every try: asked of notification, which owns those tables. */
  @Get(':id/webhooks')
  async list(@CurrentUser() userId: string, @Param('id') id: string): Promise<JobWebhookDeliveries> {
    await this.jobs.loadOwned(id, userId); // 404 for a job that is not the user's
    const { deliveries } = await askService<{ deliveries: JobWebhookDeliveries }>(
      this.deps, 'notification', commandSubjects(this.deps.config.NATS_PREFIX).webhookDeliveries, { userId, jobId: id }, WebhookDeliveriesReply,
    );
    return deliveries;
  }
}
