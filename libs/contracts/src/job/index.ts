export * from './job-status';
export * from './error-code';
export * from './messages';
export * from './job-settings';
export * from './ids';
export * from './job-output';
export * from './job';
