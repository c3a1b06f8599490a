import { startService, type RunningService } from '@tracemart/platform';
import { allStreams, validateEvent } from '@tracemart/contracts';
import type { Config } from './config';
import { createUserRepository } from './data/users';
import { userRoutes } from './http/routes';

export async function start(config: Config): Promise<RunningService> {
  return startService({
    config,
    streams: allStreams,
    validateEvent,
    wire: async ({ db, app }) => {
      const users = await createUserRepository(db);
      app.use('/users', userRoutes({ users, jwtSecret: config.JWT_SECRET, jwtTtlSeconds: config.JWT_TTL_SECONDS }));
      return {};
    },
  });
}
