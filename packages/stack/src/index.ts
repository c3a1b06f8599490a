export * from './ports';
export * from './process';
export * from './stack';
export * from './prometheus';
export * from './otlp-receiver';
export * from './lgtm';
export * from './containers';
