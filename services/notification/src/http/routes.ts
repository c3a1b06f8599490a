import { Router } from 'express';
import { requireCaller } from '@tracemart/platform';
import type { NotificationDeps } from '../dependencies';
import { listNotifications } from '../use-cases/list-notifications';

export function notificationRoutes(deps: NotificationDeps): Router {
  const router = Router();
  /** `GET /notifications`: the caller's notifications, newest first. */
  router.get('/notifications', async (req, res) => {
    res.json(await listNotifications(deps, requireCaller(req)));
  });
  return router;
}
