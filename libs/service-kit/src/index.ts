export * from './config/load-config';
export * from './context/request-context';
export * from './logging/logger';
export * from './metrics/registry';
export * from './health/ops.controller';
export * from './health/ops.module';
export * from './bootstrap/run-service';
