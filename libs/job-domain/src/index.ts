export * from './shared/decider';
export * from './job';
export * from './credits/credits';
