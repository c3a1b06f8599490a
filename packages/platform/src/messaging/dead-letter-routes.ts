import { Router } from 'express';
import { z } from 'zod';
import { AppError } from '../errors';
import { parseInput } from '../http/input';
import type { DeadLetters } from './dead-letters';

const sequenceSchema = z.coerce.number().int().positive();

/**
 * Admin routes (mounted under /admin, behind the admin token) for this service's dead letters:
 *   GET  /admin/deadletters               the messages its consumers gave up on, with why
 *   POST /admin/deadletters/:seq/redrive  put one back on its original subject
 */
export function deadLetterRoutes(letters: DeadLetters): Router {
  const router = Router();
  router.get('/deadletters', async (_req, res) => {
    res.json({ items: await letters.list() });
  });
  router.post('/deadletters/:sequence/redrive', async (req, res) => {
    const sequence = parseInput(sequenceSchema, req.params.sequence, 'sequence');
    if (!(await letters.redrive(sequence))) throw new AppError('not_found', 'DEADLETTER.NOT_FOUND', 'no such dead letter for this service');
    res.status(202).json({ redriven: sequence });
  });
  return router;
}
