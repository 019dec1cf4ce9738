export * from './job-state';
export * from './job-commands';
export * from './decide';
export * from './evolve';
export * from './job-decider';
export * from './to-public-job';
export * from './job-ids';
export * from './fold-recorded-job';
