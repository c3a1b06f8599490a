import { AppError } from '@tracemart/platform';
import { profileOf, type Profile } from '../domain/account';
import type { UserDeps } from '../dependencies';

/** The profile of the user the gateway authenticated. */
export async function getCurrentUser({ users }: UserDeps, userId: string): Promise<Profile> {
  const user = await users.findById(userId);
  if (!user) throw new AppError('not_found', 'USER.NOT_FOUND', 'user not found');
  return profileOf(user);
}
