import { defineService } from '@tracemart/platform';
import { eventCatalog } from '@tracemart/contracts';
import { configSchema } from './config';
import { userDependencies } from './dependencies';
import { userRoutes } from './http/routes';

/** User: accounts, registration and log-in (it issues the JWTs the gateway verifies). It consumes no events. */
export const userModule = defineService({
  name: 'user',
  configSchema,
  events: eventCatalog,
  dependencies: userDependencies,
  routes: userRoutes,
});
