export { createGatewayApp, type GatewayApp } from './app';
export { buildGateway } from './build-gateway';
export { AppModule } from './app.module';
export { GatewayConfig, loadGatewayConfig } from './config/gateway-config';
export { createApiKey, revokeApiKey, findUserByApiKey, GATEWAY_MIGRATIONS } from './api-keys';
export { deriveWebhookSecret } from './webhook-secret/derive-webhook-secret';
