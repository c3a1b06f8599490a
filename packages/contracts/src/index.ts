export * from './envelope';
export * from './api';
export * from './events';
export * from './streams';
export * from './catalog';
export * from './partitions';
