import { Router } from 'express';
import { AppError } from '@tracemart/platform';
import { USER_ID_HEADER } from '@tracemart/contracts';
import type { NotificationDeps } from '../dependencies';
import { listNotifications } from '../use-cases/list-notifications';

export function notificationRoutes(deps: NotificationDeps): Router {
  const router = Router();
  /** `GET /notifications`: the caller's notifications, newest first. */
  router.get('/notifications', async (req, res) => {
    const userId = req.header(USER_ID_HEADER);
    if (!userId) throw new AppError('unauthenticated', 'AUTH.REQUIRED', 'authentication required');
    res.json(await listNotifications(deps, userId));
  });
  return router;
}
