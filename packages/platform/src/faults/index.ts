export * from './http';
export * from './injector';
export * from './config';
