export * from './background';
export * from './module';
export * from './run';
export * from './start-service';
