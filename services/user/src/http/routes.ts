import { Router } from 'express';
import { parseInput, requireCaller } from '@tracemart/platform';
import { loginBodySchema, registerBodySchema } from '@tracemart/contracts';
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

  /** `GET /users/me`: the caller's profile (the caller as the gateway's identity assertion names them). */
  router.get('/users/me', async (req, res) => {
    res.json(await getCurrentUser(deps, requireCaller(req)));
  });

  return router;
}
