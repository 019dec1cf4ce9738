export * from './models';
export * from './catalog';
