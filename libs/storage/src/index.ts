export * from './blob-storage';
export * from './local-storage';
