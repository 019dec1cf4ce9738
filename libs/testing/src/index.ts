export * from './test-database';
export * from './test-nats';
export * from './given-when-then';
export * from './service-process';
export * from './stack';
export * from './exif-orientation';
export * from './webp-canvas';
