import { Router } from 'express';
import { AppError, parseInput, signAccessToken } from '@tracemart/platform';
import { loginBodySchema, registerBodySchema, USER_ID_HEADER } from '@tracemart/contracts';
import type { UserRepository } from '../data/users';
import { hashPassword, verifyPassword } from '../domain/password';

// A real hash to compare against when the email is unknown, so both failures take the same time.
const decoyHash = hashPassword('decoy-password-for-timing');

export function userRoutes(deps: { users: UserRepository; jwtSecret: string; jwtTtlSeconds: number }): Router {
  const router = Router();

  router.post('/register', async (req, res) => {
    const body = parseInput(registerBodySchema, req.body, 'registration');
    const user = await deps.users.create({ email: body.email, name: body.name, passwordHash: await hashPassword(body.password) });
    if (!user) throw new AppError('conflict', 'USER.EMAIL_TAKEN', 'an account with this email already exists');
    req.app.locals.logger?.info({ userId: user.id }, 'user registered');
    res.status(201).json({ id: user.id, email: user.email, name: user.name });
  });

  router.post('/login', async (req, res) => {
    const body = parseInput(loginBodySchema, req.body, 'login');
    const user = await deps.users.findByEmail(body.email);
    const ok = await verifyPassword(body.password, user?.passwordHash ?? (await decoyHash));
    if (!user || !ok) throw new AppError('unauthenticated', 'AUTH.INVALID_CREDENTIALS', 'invalid email or password');
    const token = await signAccessToken({ sub: user.id, name: user.name }, deps.jwtSecret, deps.jwtTtlSeconds);
    res.json({ token, expiresIn: deps.jwtTtlSeconds });
  });

  router.get('/me', async (req, res) => {
    const userId = req.header(USER_ID_HEADER);
    if (!userId) throw new AppError('unauthenticated', 'AUTH.REQUIRED', 'authentication required');
    const user = await deps.users.findById(userId);
    if (!user) throw new AppError('not_found', 'USER.NOT_FOUND', 'user not found');
    res.json({ id: user.id, email: user.email, name: user.name });
  });

  return router;
}
