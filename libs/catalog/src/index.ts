export * from './models';
export * from './catalog';
export * from './image-fit';
export * from './provider-model-ids';
export * from './retirements';
