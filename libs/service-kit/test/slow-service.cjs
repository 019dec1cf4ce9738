// A service with one slow route, run by runService as every reelay service is (run-service.e2e.spec.ts).
const { Controller, Get, Module } = require('@nestjs/common');
const { createLogger, createMetrics, OpsModule, runService } = require('@reelay/service-kit');

class SlowController {
  async slow() {
    await new Promise((r) => setTimeout(r, 500));
    return 'done';
  }
}
Get('slow')(SlowController.prototype, 'slow', Object.getOwnPropertyDescriptor(SlowController.prototype, 'slow'));
Controller()(SlowController);
class SlowModule {}
Module({ imports: [OpsModule.register({ checks: {}, metrics: createMetrics('slow') })], controllers: [SlowController] })(SlowModule);

runService({ name: 'slow', module: SlowModule, port: Number(process.env.PORT), logger: createLogger('slow', 'info'), shutdownGraceMs: 20_000 }).catch((err) => {
  console.error(err);
  process.exit(1);
});
