export * from './models';
export * from './catalog';
export * from './provider-model-ids';
export * from './retirements';
