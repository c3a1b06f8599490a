import { randomUUID } from 'node:crypto';
import { isDuplicateKeyError, type Db } from '@tracemart/platform';
import type { Account } from '../domain/account';

export interface User extends Account {
  createdAt: Date;
}

interface UserDocument extends Omit<User, 'id'> {
  _id: string;
}

const toUser = ({ _id, ...rest }: UserDocument): User => ({ id: _id, ...rest });

/** The users collection; emails are unique (stored lower-case, as the API contract normalises them). */
export async function createUserStore(db: Db) {
  const users = db.collection<UserDocument>('users');
  await users.createIndex({ email: 1 }, { unique: true });
  return {
    /** Returns undefined when the email is already registered (unique index, so races are safe). */
    async create(input: { email: string; name: string; passwordHash: string }): Promise<User | undefined> {
      const doc: UserDocument = { _id: randomUUID(), ...input, createdAt: new Date() };
      try {
        await users.insertOne(doc);
        return toUser(doc);
      } catch (err) {
        if (isDuplicateKeyError(err)) return undefined;
        throw err;
      }
    },
    async findByEmail(email: string): Promise<User | undefined> {
      const doc = await users.findOne({ email });
      return doc ? toUser(doc) : undefined;
    },
    async findById(id: string): Promise<User | undefined> {
      const doc = await users.findOne({ _id: id });
      return doc ? toUser(doc) : undefined;
    },
  };
}
export type UserStore = Awaited<ReturnType<typeof createUserStore>>;
