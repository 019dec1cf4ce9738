import { type DynamicModule, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JOB_VIEW_PROJECTION } from '@reelay/read-models';
import { createMetrics, logReaderGauges, OpsModule, type ReadinessChecks } from '@reelay/service-kit';
import { ApiKeyGuard } from './auth/api-key.guard';
import { CancelJobController } from './cancel-job/cancel-job.controller';
import { CancelJobsController } from './cancel-jobs/cancel-jobs.controller';
import { DeleteOutputController } from './delete-output/delete-output.controller';
import { DeleteAssetController } from './delete-asset/delete-asset.controller';
import { JobTokenController } from './job-token/job-token.controller';
import { RegenerateJobController } from './regenerate-job/regenerate-job.controller';
import { RegenerateFailedController } from './regenerate-failed/regenerate-failed.controller';
import { GATEWAY_DEPS, type GatewayDeps } from './gateway-deps';
import { GetJobController } from './get-job/get-job.controller';
import { IntakeClient } from './intake/intake-client';
import { JobContentController } from './job-content/job-content.controller';
import { JobPosterController } from './job-poster/job-poster.controller';
import { PosterMaker } from './job-poster/poster-maker';
import { createPosterMetrics, POSTER_METRICS } from './job-poster/poster-metrics';
import { JobEventsController } from './job-events/job-events.controller';
import { JobStreamController } from './job-stream/job-stream.controller';
import { JobStreamRegistry } from './job-stream/job-stream-registry';
import { JobEstimates } from './job-estimate/job-estimates';
import { JobsAhead } from './job-queue/jobs-ahead';
import { JobReader } from './jobs/job-reader';
import { ListJobsController } from './list-jobs/list-jobs.controller';
import { ModelsController } from './models/models.controller';
import { OpenApiController } from './openapi/openapi.controller';
import { VideosController } from './openai-videos/videos.controller';
import { ProviderCallbackController } from './provider-callback/provider-callback.controller';
import { SubmitJobController } from './submit-job/submit-job.controller';
import { UploadAssetController } from './upload-asset/upload-asset.controller';
import { ServeAssetController } from './serve-asset/serve-asset.controller';
import { WebPageController } from './web/web-page.controller';
import { WebhookSecretController } from './webhook-secret/webhook-secret.controller';
import { TestWebhookController } from './webhook-secret/test-webhook.controller';
import { CreditsController } from './credits/credits.controller';
import { JobWebhooksController } from './job-webhooks/job-webhooks.controller';

export const GATEWAY_SHUTDOWN = Symbol('GATEWAY_SHUTDOWN');

/** Runs after the HTTP server has closed: stops background work, then closes connections. */
class GatewayShutdown implements OnApplicationShutdown {
  constructor(@Inject(GATEWAY_SHUTDOWN) private readonly close: () => Promise<void>) {}
  onApplicationShutdown(): Promise<void> {
    return this.close();
  }
}

@Module({})
export class AppModule {
  static register(deps: GatewayDeps, checks: ReadinessChecks, close: () => Promise<void>): DynamicModule {
    const metrics = createMetrics('gateway');
    // The gateway runs the job list's projection: its lag is exported here.
    logReaderGauges(metrics, deps.dataSource, [JOB_VIEW_PROJECTION]);
    return {
      module: AppModule,
      imports: [
        OpsModule.register({
          checks,
          metrics,
          metricsToken: deps.config.METRICS_TOKEN,
        }),
      ],
      controllers: [
        // ListJobs before GetJob is not needed (GET /v1/jobs vs /v1/jobs/:id differ), but the
        // fixed sub-routes of :id come before anything more generic.
        SubmitJobController,
        ListJobsController,
        JobEventsController,
        JobWebhooksController,
        JobStreamController,
        JobContentController,
        JobPosterController,
        CancelJobController,
        CancelJobsController,
        RegenerateFailedController,
        DeleteOutputController,
        DeleteAssetController,
        JobTokenController,
        RegenerateJobController,
        GetJobController,
        UploadAssetController,
        ServeAssetController,
        ModelsController,
        WebhookSecretController,
        TestWebhookController,
        CreditsController,
        ProviderCallbackController,
        VideosController,
        OpenApiController,
        WebPageController,
      ],
      providers: [
        { provide: GATEWAY_DEPS, useValue: deps },
        { provide: GATEWAY_SHUTDOWN, useValue: close },
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        GatewayShutdown,
        IntakeClient,
        JobReader,
        JobEstimates,
        JobsAhead,
        JobStreamRegistry,
        PosterMaker,
        { provide: POSTER_METRICS, useValue: createPosterMetrics(metrics) },
      ],
    };
  }
}
