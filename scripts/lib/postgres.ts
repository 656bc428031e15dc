/**
 * A PostgreSQL server of the project's own, in a data folder of its own, on a port of its own:
 * initdb on first use (a `temporal` user with a generated password, password sign-in only), started
 * with pg_ctl listening on 127.0.0.1 alone, stopped cleanly. Debian's `postgresql` package provides
 * the binaries (scripts/install-postgresql.sh).
 *
 * PostgreSQL refuses to run as root. Run as root (CI, containers), every PostgreSQL command runs as
 * the `postgres` user Debian's package creates, and the data folder belongs to that user.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface PostgresOptions {
  /** The data folder (created by initdb when empty). */
  dataDirectory: string;
  port: number;
  log?: (line: string) => void;
}

export interface Postgres {
  host: string;
  port: number;
  user: string;
  password: string;
  /** pg_ctl's log. */
  logFile: string;
  stop(): Promise<void>;
}

export const POSTGRES_USER = 'temporal';

/** The newest PostgreSQL under /usr/lib/postgresql (Debian's layout), or PG_BIN. */
export function postgresBinDirectory(): string {
  const configured = process.env.SPAWNGUARD_PG_BIN;
  if (configured) return configured;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error(
      'PostgreSQL is not installed (no /usr/lib/postgresql/<version>/bin/initdb): run `bash scripts/install-postgresql.sh`, ' +
        'or set SPAWNGUARD_PG_BIN to the folder holding initdb and pg_ctl',
    );
  }
  return join(root, versions[0]!, 'bin');
}

const runningAsRoot = () => process.getuid?.() === 0;

/** The `postgres` system user's uid and gid, when running as root. */
function postgresAccount(): { uid: number; gid: number } {
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const uid = id('-u');
  const gid = id('-g');
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error(
      'running as root, PostgreSQL needs the `postgres` system user (Debian: apt-get install postgresql)',
    );
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** Runs a PostgreSQL binary, as `postgres` when this process is root. Resolves with its output. */
function run(binary: string, args: string[], what: string): Promise<string> {
  const [command, commandArgs] = runningAsRoot()
    ? ['runuser', ['-u', 'postgres', '--', binary, ...args]]
    : [binary, args];
  return new Promise((resolve, reject) => {
    // Never a shell: every argument is passed as is.
    const child = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (err) => reject(new Error(`${what}: cannot run ${binary}: ${err.message}`)));
    child.on('close', (code) =>
      code === 0 ? resolve(output) : reject(new Error(`${what} failed (exit ${code}):\n${output.trim()}`)),
    );
  });
}

/**
 * The folder must be reachable by the user PostgreSQL runs as: when root created its parents
 * without search permission for others (mktemp's 0700), PostgreSQL cannot open it.
 */
function checkReachable(directory: string): void {
  if (!runningAsRoot()) return;
  const probe = spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-x', directory], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(
      `the postgres user cannot reach ${directory}: one of its parent folders denies others search permission ` +
        '(chmod o+x it, or choose a cluster folder elsewhere with --dir)',
    );
  }
}

export async function startPostgres(options: PostgresOptions): Promise<Postgres> {
  const log = options.log ?? (() => {});
  const bin = postgresBinDirectory();
  const data = options.dataDirectory;
  // pg_ctl hands its options to a shell: a folder name is never allowed to carry more than a path.
  if (!/^[A-Za-z0-9._/-]+$/.test(data)) {
    throw new Error(`${data}: the PostgreSQL data folder may only contain letters, digits and . _ / -`);
  }
  // The password lives beside (not inside) the data folder, readable by this user only.
  const passwordFile = `${data}.password`;
  const logFile = `${data}.log`;
  mkdirSync(data, { recursive: true, mode: 0o700 });
  if (runningAsRoot()) {
    const { uid, gid } = postgresAccount();
    chownSync(data, uid, gid);
    if (!existsSync(logFile)) writeFileSync(logFile, '');
    chownSync(logFile, uid, gid);
  }
  checkReachable(data);

  if (!existsSync(join(data, 'PG_VERSION'))) {
    log(`Creating the PostgreSQL data folder ${data} (initdb)…`);
    const password = randomBytes(24).toString('base64url');
    writeFileSync(passwordFile, password, { mode: 0o600 });
    // initdb reads the password from a file the postgres user can read: written, used, removed.
    const initPassword = `${data}.initdb-password`;
    writeFileSync(initPassword, password, { mode: 0o600 });
    if (runningAsRoot()) {
      const { uid, gid } = postgresAccount();
      chownSync(initPassword, uid, gid);
    }
    try {
      await run(
        join(bin, 'initdb'),
        [
          '-D',
          data,
          '-U',
          POSTGRES_USER,
          `--pwfile=${initPassword}`,
          '--auth=scram-sha-256',
          '-E',
          'UTF8',
          '--no-instructions',
        ],
        'initdb',
      );
    } finally {
      rmSync(initPassword, { force: true });
    }
  }
  if (!existsSync(passwordFile)) throw new Error(`${passwordFile} is missing: the data folder's password is unknown`);
  const password = readFileSync(passwordFile, 'utf8').trim();
  chmodSync(passwordFile, 0o600);

  // A server left running by an interrupted run (kill -9 of `npm run cluster`) is stopped first.
  const status = spawnSync(runningAsRoot() ? 'runuser' : join(bin, 'pg_ctl'), [
    ...(runningAsRoot() ? ['-u', 'postgres', '--', join(bin, 'pg_ctl')] : []),
    'status',
    '-D',
    data,
  ]);
  if (status.status === 0) {
    log('A PostgreSQL server from an earlier run still holds this folder: stopping it first…');
    await run(join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'fast', '-w'], 'pg_ctl stop');
  }

  log(`Starting PostgreSQL on 127.0.0.1:${options.port}…`);
  // TCP on 127.0.0.1 only, no Unix socket (/var/run/postgresql may not be writable, and a socket
  // path in a deep folder passes the kernel's length limit).
  const serverOptions = `-p ${options.port} -k "" -c listen_addresses=127.0.0.1 -c max_connections=300`;
  await run(
    join(bin, 'pg_ctl'),
    ['start', '-D', data, '-l', logFile, '-w', '-t', '60', '-o', serverOptions],
    'pg_ctl start',
  );

  const stop = async () => {
    await run(join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'fast', '-w', '-t', '60'], 'pg_ctl stop').catch((err) =>
      log(`PostgreSQL stop: ${(err as Error).message}`),
    );
  };
  return { host: '127.0.0.1', port: options.port, user: POSTGRES_USER, password, logFile, stop };
}
