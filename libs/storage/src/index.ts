export * from './blob-storage';
export * from './local-storage';
export * from './abandoned-sweeper';
export * from './asset-url';
export * from './user-asset';
