import { Controller, Get, Inject } from '@nestjs/common';
import { ModelList } from '@reelay/contracts';
import { GATEWAY_DEPS, type GatewayDeps } from '../gateway-deps';

@Controller('v1/models')
export class ModelsController {
  constructor(@Inject(GATEWAY_DEPS) private readonly deps: GatewayDeps) {}

  /** The catalog as api.md shows it (ModelList leaves out failover alternates, an internal detail). */
  @Get()
  list() {
    return ModelList.parse({ data: this.deps.catalog.list().map(({ alternates: _alternates, ...model }) => model) });
  }
}
