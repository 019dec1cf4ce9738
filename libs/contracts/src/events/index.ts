export * from './define-event';
export * from './job-events';
export * from './credit-events';
export * from './upcasters';
export * from './registry';
export * from './envelope';
