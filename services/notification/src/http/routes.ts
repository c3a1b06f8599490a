import { Router } from 'express';
import { AppError } from '@tracemart/platform';
import { USER_ID_HEADER } from '@tracemart/contracts';
import type { NotificationStore } from '../data/notifications';

export function notificationRoutes(store: NotificationStore): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const userId = req.header(USER_ID_HEADER);
    if (!userId) throw new AppError('unauthenticated', 'AUTH.REQUIRED', 'authentication required');
    const docs = await store.listFor(userId);
    res.json({
      items: docs.map((doc) => ({
        id: doc._id,
        orderId: doc.orderId,
        kind: doc.kind,
        subject: doc.subject,
        body: doc.body,
        status: doc.status,
        createdAt: doc.createdAt.toISOString(),
      })),
    });
  });
  return router;
}
