export * from './backoff';
export * from './breaker';
export * from './bulkhead';
export * from './lru';
export * from './rate-limit';
export * from './timeout';
export * from './failure-throttle';
