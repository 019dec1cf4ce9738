export * from './job';
export * from './events';
export * from './api/api-error';
export * from './api/submit-job-request';
export * from './catalog/model-catalog';
export * from './commands/commands';
export * from './api/openai-videos';
export * from './api/gateway-responses';
