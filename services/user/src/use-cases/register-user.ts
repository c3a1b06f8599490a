import { AppError } from '@tracemart/platform';
import { profileOf, type Profile } from '../domain/account';
import { hashPassword } from '../domain/password';
import type { UserDeps } from '../dependencies';

/** Opens an account: stores a salted hash of the password, never the password; one account per email. */
export async function registerUser({ users, logger }: UserDeps, command: { email: string; name: string; password: string }): Promise<Profile> {
  const user = await users.create({ email: command.email, name: command.name, passwordHash: await hashPassword(command.password) });
  if (!user) throw new AppError('conflict', 'USER.EMAIL_TAKEN', 'an account with this email already exists');
  logger.info({ userId: user.id }, 'user registered');
  return profileOf(user);
}
