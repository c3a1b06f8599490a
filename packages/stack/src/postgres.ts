import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { INSTALL_GIN_TWINS } from './postgres-indexes';
import { spawnManaged, type ManagedProcess } from './process';

/**
 * FerretDB's storage: a private PostgreSQL cluster in `<dataDir>/postgres/data` (or, when the `postgres` user
 * cannot reach the data folder, in /var/lib/tracemart: see `clusterLocation`), made from Debian's `postgresql`
 * package and never the machine's own server. It listens on 127.0.0.1 only (no Unix socket) and asks for a
 * password (scram-sha-256): a superuser session can run programs as the cluster's owner (`COPY ... FROM
 * PROGRAM`), so no other local user may open one. The random password is kept in the data folder (0600, in a
 * 0700 folder) and reaches FerretDB through its environment, never a command line. It keeps PostgreSQL's durability
 * defaults (fsync, synchronous_commit). PostgreSQL refuses to run as root, so under root every PostgreSQL
 * program runs as the `postgres` system user.
 */
export interface PostgresOptions {
  dataDir: string;
  port: number;
  /** The data folder is deleted after stop (tests): a new cluster's files are not fsynced. */
  ephemeral?: boolean;
  logFile?: string;
  onLine?: (name: string, line: string) => void;
}

export interface Postgres {
  /** What FerretDB's `--postgresql-url` takes, with the password: pass it in the environment, not on a command line. */
  url: string;
  /** `stop()` is a fast shutdown (SIGINT): sessions are ended, a checkpoint is written, nothing is lost. */
  process: ManagedProcess;
  /** Waits until a (re)started postmaster on this cluster accepts connections. */
  ready: (proc: ManagedProcess) => Promise<void>;
}

const DATABASE = 'ferretdb';
/** Bump when the way a cluster is initialised changes, so that a stale cached template is not reused. */
const TEMPLATE_RECIPE = 'v2';
/** The superuser's password, inside the data folder (copied with it from the template). */
const PASSWORD_FILE = 'tracemart.password';

interface Owner {
  uid: number;
  gid: number;
}

interface Binaries {
  dir: string;
  major: string;
}

/** The newest PostgreSQL under Debian's /usr/lib/postgresql/<major>/bin. */
function postgresBinaries(): Binaries {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root)
    ? readdirSync(root)
        .filter((name) => /^\d+$/.test(name) && existsSync(join(root, name, 'bin', 'postgres')) && existsSync(join(root, name, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const major = majors[0];
  if (!major) throw new Error("PostgreSQL is not installed (no /usr/lib/postgresql/<version>/bin): run `npm run setup` (scripts/setup.sh installs Debian's postgresql package)");
  return { dir: join(root, major, 'bin'), major };
}

/** Who runs the cluster: the `postgres` system user under root, else the current user (undefined). */
function clusterOwner(): Owner | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const entry = spawnSync('getent', ['passwd', 'postgres'], { encoding: 'utf8' }).stdout.split(':');
  const uid = Number(entry[2]);
  const gid = Number(entry[3]);
  if (!entry[2] || !Number.isInteger(uid) || !Number.isInteger(gid)) {
    throw new Error("PostgreSQL cannot run as root and there is no `postgres` user: run `npm run setup` (Debian's postgresql package creates it)");
  }
  return { uid, gid };
}

const ownerFlags = (owner: Owner) => [`--reuid=${owner.uid}`, `--regid=${owner.gid}`, '--clear-groups'];

/** The command line that runs `command` as the owner (setpriv switches user and execs `command`). */
function asOwner(owner: Owner | undefined, command: string, args: string[]): [string, string[]] {
  if (!owner) return [command, args];
  return ['setpriv', [...ownerFlags(owner), '--', command, ...args]];
}

/** Runs a one-off command to completion; rejects naming `what` with the command's last output lines when it fails. */
function run(what: string, [command, args]: [string, string[]], input?: string, env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], ...(env ? { env } : {}) });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve(output);
      else reject(new Error(`${what} failed (exit ${code}): ${output.trim().split('\n').slice(-5).join('\n')}`));
    });
    child.stdin.end(input ?? '');
  });
}

/**
 * An initialised cluster (with FerretDB's database) cached in the temporary folder: copying it takes a fraction
 * of initdb's time, which matters because every test file starts its own cluster. Built once per PostgreSQL major
 * version and owner; a half-built one never becomes visible (built aside, then renamed).
 */
async function template(bin: Binaries, owner: Owner | undefined): Promise<string> {
  const uid = owner?.uid ?? process.getuid?.() ?? 0;
  const path = join(tmpdir(), `tracemart-postgres-${bin.major}-${uid}-${TEMPLATE_RECIPE}`);
  if (existsSync(path)) {
    // The temporary folder is shared: use only a template that the cluster's owner made.
    if (statSync(path).uid !== uid) throw new Error(`${path} is not owned by uid ${uid}: remove it`);
    if (existsSync(join(path, 'PG_VERSION')) && existsSync(join(path, 'global', 'pg_control'))) return path;
    rmSync(path, { recursive: true, force: true });
  }
  const partial = `${path}.partial-${process.pid}-${randomBytes(3).toString('hex')}`;
  try {
    const password = randomBytes(24).toString('base64url');
    const pwfile = `${partial}.pw`;
    writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    if (owner) chownSync(pwfile, owner.uid, owner.gid);
    try {
      await run(
        'initdb',
        asOwner(owner, join(bin.dir, 'initdb'), ['-D', partial, '-A', 'scram-sha-256', `--pwfile=${pwfile}`, '-U', 'postgres', '-E', 'UTF8', '--no-locale', '--no-instructions']),
      );
    } finally {
      rmSync(pwfile, { force: true });
    }
    writeFileSync(join(partial, PASSWORD_FILE), `${password}\n`, { mode: 0o600 });
    if (owner) chownSync(join(partial, PASSWORD_FILE), owner.uid, owner.gid);
    // Single-user mode: no server, no port. It reports a failed statement in its output, not in its exit code.
    const created = await run(
      `creating database ${DATABASE}`,
      asOwner(owner, join(bin.dir, 'postgres'), ['--single', '-D', partial, 'postgres']),
      `CREATE DATABASE ${DATABASE};\n`,
    );
    if (/\b(ERROR|FATAL):/.test(created)) throw new Error(`creating database ${DATABASE} failed: ${created.trim()}`);
    renameSync(partial, path);
  } catch (err) {
    rmSync(partial, { recursive: true, force: true });
    // Another process finished the same template first.
    if (existsSync(join(path, 'global', 'pg_control'))) return path;
    throw err;
  }
  return path;
}

/** Lets the owner reach `dataDir` (e.g. a root-only mkdtemp folder); says whether it can then reach `clusterDir`. */
function reachable(dataDir: string, clusterDir: string, owner: Owner): boolean {
  const st = statSync(dataDir);
  const canSearch = st.uid === owner.uid ? st.mode & 0o100 : st.gid === owner.gid ? st.mode & 0o010 : st.mode & 0o001;
  if (!canSearch) {
    // Search permission for the postgres group only: other users still cannot look inside.
    chownSync(dataDir, st.uid, owner.gid);
    chmodSync(dataDir, (st.mode & 0o7777) | 0o010);
  }
  const [command, args] = asOwner(owner, 'test', ['-x', clusterDir]);
  return spawnSync(command, args).status === 0;
}

/** Where `<dataDir>`'s cluster lives when it is not `<dataDir>/postgres`: recorded in this file. */
const LOCATION_FILE = 'postgres.location';

/**
 * The folder of `dataDir`'s cluster: `<dataDir>/postgres`, or, when `dataDir` lies under a folder the postgres
 * user may not enter (a checkout in root's 0700 home, say), `/var/lib/tracemart/postgres-<hash of dataDir>`, which
 * is recorded in `<dataDir>/postgres.location` so that later starts and `npm run reset` find it.
 */
export function clusterLocation(dataDir: string): string {
  const recorded = join(dataDir, LOCATION_FILE);
  return existsSync(recorded) ? readFileSync(recorded, 'utf8').trim() : join(dataDir, 'postgres');
}

function prepareClusterDir(dataDir: string, owner: Owner | undefined): string {
  let clusterDir = clusterLocation(dataDir);
  mkdirSync(clusterDir, { recursive: true, mode: 0o700 });
  if (!owner) return clusterDir;
  chownSync(clusterDir, owner.uid, owner.gid);
  if (reachable(dataDir, clusterDir, owner)) return clusterDir;
  rmSync(clusterDir, { recursive: true, force: true });
  const shared = '/var/lib/tracemart';
  mkdirSync(shared, { recursive: true, mode: 0o755 });
  clusterDir = join(shared, `postgres-${createHash('sha256').update(dataDir).digest('hex').slice(0, 16)}`);
  mkdirSync(clusterDir, { recursive: true, mode: 0o700 });
  chownSync(clusterDir, owner.uid, owner.gid);
  const [command, args] = asOwner(owner, 'test', ['-x', clusterDir]);
  if (spawnSync(command, args).status !== 0) throw new Error(`PostgreSQL runs as the postgres user, which can reach neither ${join(dataDir, 'postgres')} nor ${clusterDir}`);
  writeFileSync(join(dataDir, LOCATION_FILE), `${clusterDir}\n`);
  return clusterDir;
}

/** The pid of a postmaster still running on `data` (e.g. left by a run that was killed), if any. */
export function runningPostmaster(data: string): number | undefined {
  const pidFile = join(data, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    // A stale pid file's pid may belong to another process by now: only a postmaster started on `data` counts.
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(data) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** PostgreSQL writes its state into postmaster.pid; `ready` is what `pg_ctl -w` waits for too. */
function isReady(data: string, pid: number | undefined): boolean {
  try {
    const lines = readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n');
    return lines[0] === String(pid) && lines[7]?.trim() === 'ready';
  } catch {
    return false;
  }
}

/** The superuser's password of the cluster in `data`; none for a cluster made before passwords (trust authentication). */
function clusterPassword(data: string): string | undefined {
  const passwordFile = join(data, PASSWORD_FILE);
  return existsSync(passwordFile) ? readFileSync(passwordFile, 'utf8').trim() : undefined;
}

/**
 * The URL of FerretDB's database on `dataDir`'s cluster listening on `port`, with its password: what startPostgres
 * returns, and what FerretDB's per-process entry reads when PostgreSQL was started by another process.
 */
export function postgresUrl(dataDir: string, port: number): string {
  const password = clusterPassword(join(clusterLocation(dataDir), 'data'));
  const credentials = password ? `postgres:${encodeURIComponent(password)}` : 'postgres';
  return `postgres://${credentials}@127.0.0.1:${port}/${DATABASE}`;
}

/** Creates the cluster if its folder (see `clusterLocation`) has none, starts it and waits until it accepts connections. */
export async function startPostgres(options: PostgresOptions): Promise<Postgres> {
  const bin = postgresBinaries();
  const owner = clusterOwner();
  const data = join(prepareClusterDir(options.dataDir, owner), 'data');
  if (existsSync(join(data, 'PG_VERSION'))) {
    const version = readFileSync(join(data, 'PG_VERSION'), 'utf8').trim();
    if (version !== bin.major) {
      throw new Error(`${data} was made by PostgreSQL ${version}, but this machine has PostgreSQL ${bin.major}: \`npm run reset\` wipes it (or pg_upgrade it)`);
    }
  } else {
    const partial = `${data}.partial`;
    rmSync(partial, { recursive: true, force: true });
    await run('copying the cluster template', ['cp', ['-a', await template(bin, owner), partial]]);
    if (!options.ephemeral) await run('initdb --sync-only', asOwner(owner, join(bin.dir, 'initdb'), ['--sync-only', '-D', partial]));
    renameSync(partial, data);
  }
  const leftover = runningPostmaster(data);
  if (leftover !== undefined) {
    throw new Error(`a PostgreSQL from an earlier run (pid ${leftover}) still runs on ${data}: stop it with \`kill -INT ${leftover}\`, then start again`);
  }
  const server = [
    join(bin.dir, 'postgres'),
    ...['-D', data, '-p', String(options.port)],
    // Loopback TCP only: no Unix socket (its path would be limited to ~100 bytes, or land in /var/run/postgresql).
    ...['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    // The log keeps start-up, checkpoints, shutdown and fatal errors, but not failed statements: FerretDB answers
    // those to the services (a unique-key conflict is routine here), and their details hold stored values (emails).
    ...['-c', 'log_min_messages=log'],
    // FerretDB's prepared statements name the field as a parameter; only a custom plan can use an index (postgres-indexes.ts).
    ...['-c', 'plan_cache_mode=force_custom_plan'],
  ];
  // setsid and setpriv each exec the next program, so the managed process is the postmaster itself. setsid gives it
  // its own session: a Ctrl-C in the terminal reaches FerretDB and the services but not PostgreSQL, which stops when
  // `stop()` asks, after FerretDB. The parent-death signal is a fast shutdown should this process die without
  // stopping it (killed, crashed), so that no PostgreSQL outlives the stack.
  const managed = spawnManaged({
    name: 'postgres',
    command: 'setsid',
    args: ['setpriv', ...(owner ? ownerFlags(owner) : []), '--pdeathsig', 'INT', '--', ...server],
    ...(options.logFile ? { logFile: options.logFile } : {}),
    ...(options.onLine ? { onLine: options.onLine } : {}),
    stopSignal: 'SIGINT',
    stopTimeoutMs: 60_000,
  });
  const ready = async (proc: ManagedProcess) => {
    const deadline = Date.now() + 60_000;
    while (!isReady(data, proc.child.pid)) {
      if (proc.child.exitCode !== null || proc.child.signalCode !== null || Date.now() > deadline) {
        await proc.stop();
        throw new Error(`PostgreSQL did not start on 127.0.0.1:${options.port}: ${proc.lines.slice(-5).join('\n')}`);
      }
      await sleep(50);
    }
  };
  await ready(managed);
  const password = clusterPassword(data);
  try {
    await run(
      'installing the GIN index twins',
      [join(bin.dir, 'psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(options.port), '-U', 'postgres', '-d', DATABASE]],
      INSTALL_GIN_TWINS,
      { ...process.env, ...(password ? { PGPASSWORD: password } : {}) },
    );
  } catch (err) {
    await managed.stop();
    throw err;
  }
  return { url: postgresUrl(options.dataDir, options.port), process: managed, ready };
}
