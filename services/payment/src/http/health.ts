import type { Express } from 'express';
import type { ProcessorClient } from '../processor-client';

/**
 * `GET /payments/health`: the processor breaker's state. The gateway polls it to fail checkout fast
 * while payments cannot be taken (checkout itself is asynchronous, so the gateway never sees the charge).
 */
export function healthRoutes(app: Express, processor: ProcessorClient): void {
  app.get('/payments/health', (_req, res) => {
    res.setHeader('cache-control', 'no-store');
    res.json({ processor: processor.state() });
  });
}
