export * from './api-client';
export * from './clock';
export * from './component';
export * from './edge-stubs';
export * from './events';
export * from './infra';
