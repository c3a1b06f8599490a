import { loadConfig, runMain } from '@tracemart/platform';
import { configSchema } from './config';
import { start } from './start';

runMain(() => start(loadConfig(configSchema)));
