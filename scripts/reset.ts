/** `npm run reset`: wipes the local stack's data (.data/: NATS streams, FerretDB files, logs). */
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const dataDir = join(resolve(__dirname, '..'), '.data');
rmSync(dataDir, { recursive: true, force: true });
process.stdout.write(`removed ${dataDir}\n`);
