import { Controller, Get, Inject } from '@nestjs/common';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';

@Controller('v1/models')
export class ModelsController {
  constructor(@Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps) {}

  /** The catalog as api.md shows it; failover alternates are an internal detail. */
  @Get()
  list() {
    return {
      data: this.deps.catalog.list().map(({ id, provider, durations, aspectRatios, resolutions, imageToVideo, textToVideo, creditsPerSecond }) => ({
        id,
        provider,
        durations,
        aspectRatios,
        resolutions,
        imageToVideo,
        textToVideo,
        creditsPerSecond,
      })),
    };
  }
}
