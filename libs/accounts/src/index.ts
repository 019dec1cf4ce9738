export * from './api-keys/api-key';
export * from './api-keys/api-key-store';
export * from './webhook-secret/webhook-secret';
export * from './migrations';
