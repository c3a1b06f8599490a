import { MongoClient, type Db } from 'mongodb';

export interface MongoHandle {
  client: MongoClient;
  db: Db;
  ping: () => Promise<boolean>;
  close: () => Promise<void>;
}

/** One client per process, one database per service: the database name is the ownership boundary. */
export async function connectMongo(url: string, dbName: string, appName: string): Promise<MongoHandle> {
  const client = new MongoClient(url, {
    appName,
    serverSelectionTimeoutMS: 5_000,
    connectTimeoutMS: 5_000,
    maxPoolSize: 20,
    // FerretDB and real MongoDB both accept this; retryable writes need a replica set and are left off.
    retryWrites: false,
  });
  await client.connect();
  const db = client.db(dbName);
  return {
    client,
    db,
    ping: async () => {
      await db.command({ ping: 1 });
      return true;
    },
    close: () => client.close(),
  };
}

/** True when `err` is a duplicate-key error from a unique index. */
export function isDuplicateKeyError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: number }).code === 11000;
}
