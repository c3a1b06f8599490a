import { Router } from 'express';
import { AppError, parseInput } from '@tracemart/platform';
import { loginBodySchema, registerBodySchema, USER_ID_HEADER } from '@tracemart/contracts';
import type { UserDeps } from '../dependencies';
import { getCurrentUser } from '../use-cases/get-current-user';
import { logIn } from '../use-cases/log-in';
import { registerUser } from '../use-cases/register-user';

export function userRoutes(deps: UserDeps): Router {
  const router = Router();

  /** `POST /users/register`: 201 with the new account's profile. */
  router.post('/users/register', async (req, res) => {
    const body = parseInput(registerBodySchema, req.body, 'registration');
    res.status(201).json(await registerUser(deps, body));
  });

  /** `POST /users/login`: an access token for the right password. */
  router.post('/users/login', async (req, res) => {
    const body = parseInput(loginBodySchema, req.body, 'login');
    res.json(await logIn(deps, body));
  });

  /** `GET /users/me`: the caller's profile (the gateway names the caller in x-user-id). */
  router.get('/users/me', async (req, res) => {
    const userId = req.header(USER_ID_HEADER);
    if (!userId) throw new AppError('unauthenticated', 'AUTH.REQUIRED', 'authentication required');
    res.json(await getCurrentUser(deps, userId));
  });

  return router;
}
