export * from './ports';
export * from './process';
export * from './stack';
export * from './prometheus';
export { clusterLocation, runningPostmaster } from './postgres';
export * from './otlp-receiver';
export * from './telemetry-backends';
export * from './containers';
