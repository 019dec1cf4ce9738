export { createGatewayApp, type GatewayApp } from './app';
export { buildGateway } from './build-gateway';
export { AppModule } from './app.module';
export { GatewayConfig, loadGatewayConfig } from './config/gateway-config';
export { GATEWAY_MIGRATIONS } from './migrations/gateway-migrations';
