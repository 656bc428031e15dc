/**
 * The production topology's Temporal, run natively (`npm run cluster`, the cluster tests and the
 * bench): PostgreSQL in a folder of the cluster's own, the schema set up and updated by
 * deploy/temporal-schema.sh, and the Temporal server 1.29.1 reading deploy/temporal-server.yaml —
 * the file docker-compose.yml mounts — with deploy/temporal-dynamic-config.yaml, mutual TLS with
 * certificates from deploy/make-certs.sh, the namespace created with its retention and archival, and
 * spawnguard's search attributes registered.
 *
 *   <dir>/postgresql        PostgreSQL's data (password beside it, log beside it)
 *   <dir>/certs             the private CA and every part's certificate
 *   <dir>/temporal/config   spawnguard.yaml → deploy/temporal-server.yaml
 *   <dir>/temporal.log      the server's log
 *   <dir>/archival          closed histories after retention
 */
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import { msToNumber, msToTs, type Duration } from '@temporalio/common/lib/time';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { SEARCH_ATTRIBUTES } from '../../common/names';
import { freePort } from '../../client/dev-server';
import { startPostgres, type Postgres } from './postgres';
import { ensureTemporalServerBinaries, type TemporalServerBinaries } from './temporal-server-binaries';

const ROOT = resolve(__dirname, '..', '..');
export const SERVER_CONFIG = join(ROOT, 'deploy', 'temporal-server.yaml');
export const DYNAMIC_CONFIG = join(ROOT, 'deploy', 'temporal-dynamic-config.yaml');
const SCHEMA_SCRIPT = join(ROOT, 'deploy', 'temporal-schema.sh');
const MAKE_CERTS = join(ROOT, 'deploy', 'make-certs.sh');
/** The name in the server certificate, which every client checks. */
const SERVER_NAME = 'temporal';

export interface ClusterOptions {
  directory: string;
  /** The frontend's gRPC port; 0 or unset picks a free one. */
  port?: number;
  /** PostgreSQL's port; 0 or unset picks a free one. */
  postgresPort?: number;
  namespace?: string;
  /** How long closed incidents stay before archival (Temporal duration, e.g. 30d, 72h). */
  retention?: string;
  /** Fixed when the cluster is first created (docs/operations.md "Sizing"). */
  historyShards?: number;
  /** Host workers that get a client certificate (`spawnguard-host-<name>`). */
  hosts?: string[];
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  log?: (line: string) => void;
  readyTimeoutMs?: number;
}

/** The parts with a client certificate of their own (deploy/make-certs.sh). */
export type ClusterPart = 'spawnguard-central' | 'spawnguard-ingest' | 'temporal-admin' | `spawnguard-host-${string}`;

export interface Cluster {
  address: string;
  namespace: string;
  retention: string;
  directory: string;
  postgres: Postgres;
  binaries: TemporalServerBinaries;
  /** The environment a spawnguard process (ingest, worker, CLI) needs to reach this cluster as `part`. */
  env(part: ClusterPart): Record<string, string>;
  connectionOptions(part: ClusterPart): ConnectionOptions;
  connect(part?: ClusterPart): Promise<Client>;
  /** kill -9 of the Temporal server (a crash); PostgreSQL keeps running. */
  killServer(): Promise<void>;
  /** Starts the server again on the same ports and database, resolving once it serves. */
  startServer(): Promise<void>;
  /** Stops the server, then PostgreSQL. */
  stop(): Promise<void>;
}

/** deploy/make-certs.sh names a host's certificate after its host name in lower case. */
const certificateName = (part: ClusterPart) => part.toLowerCase();

const DAY_MS = 86_400_000;
export const DEFAULT_HISTORY_SHARDS = 128;

/** `30d`, `72h`, `90m` → milliseconds; the namespace's retention must be at least a day. */
export function retentionMs(retention: string): number {
  if (!/^\d+(d|h|m)$/.test(retention)) {
    throw new Error(`retention "${retention}" is not a duration like 30d, 72h or 1440m`);
  }
  const ms = msToNumber(retention as Duration);
  if (ms < DAY_MS) throw new Error(`retention ${retention} is shorter than Temporal's minimum of one day`);
  return ms;
}

/**
 * The history shard count is fixed when a cluster is created: the first start records it in
 * cluster.json, and a later start with another count is refused before anything runs.
 */
function rememberedShards(directory: string, requested: number | undefined): number {
  const file = join(directory, 'cluster.json');
  const Settings = z.object({ historyShards: z.number().int().min(1) });
  if (existsSync(file)) {
    const stored = Settings.parse(JSON.parse(readFileSync(file, 'utf8'))).historyShards;
    if (requested !== undefined && requested !== stored) {
      throw new Error(
        `${directory} was created with ${stored} history shards; a cluster's shard count cannot change ` +
          `(start it with ${stored}, or create a new cluster: --reset deletes this one)`,
      );
    }
    return stored;
  }
  const historyShards = requested ?? DEFAULT_HISTORY_SHARDS;
  writeFileSync(file, `${JSON.stringify({ historyShards }, null, 2)}\n`);
  return historyShards;
}

function runChecked(command: string, args: string[], env: NodeJS.ProcessEnv, what: string): void {
  const result = spawnSync(command, args, { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) {
    throw new Error(
      `${what} failed (exit ${result.status ?? result.signal}):\n${`${result.stdout}${result.stderr}`.trim()}`,
    );
  }
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const log = options.log ?? (() => {});
  const directory = resolve(options.directory);
  const namespace = options.namespace ?? 'default';
  const retention = options.retention ?? '30d';
  const retentionMillis = retentionMs(retention);
  mkdirSync(directory, { recursive: true });

  const historyShards = rememberedShards(directory, options.historyShards);
  const binaries = await ensureTemporalServerBinaries(log);

  const certs = join(directory, 'certs');
  const hosts = options.hosts ?? [];
  log('Certificates (deploy/make-certs.sh)…');
  runChecked('bash', [MAKE_CERTS, certs, ...hosts], process.env, 'deploy/make-certs.sh');

  const postgres = await startPostgres({
    dataDirectory: join(directory, 'postgresql'),
    port: options.postgresPort || (await freePort()),
    log,
  });
  const stops: (() => Promise<void>)[] = [() => postgres.stop()];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  };

  try {
    const dbEnv = {
      TEMPORAL_DB_HOST: postgres.host,
      TEMPORAL_DB_PORT: String(postgres.port),
      TEMPORAL_DB_USER: postgres.user,
      TEMPORAL_DB_PASSWORD: postgres.password,
    };
    log('Temporal schema (deploy/temporal-schema.sh)…');
    runChecked(
      'sh',
      [SCHEMA_SCRIPT],
      { PATH: process.env.PATH ?? '', ...dbEnv, TEMPORAL_SQL_TOOL: binaries.sqlTool },
      'deploy/temporal-schema.sh',
    );

    const configDirectory = join(directory, 'temporal', 'config');
    mkdirSync(configDirectory, { recursive: true });
    const configLink = join(configDirectory, 'spawnguard.yaml');
    rmSync(configLink, { force: true });
    symlinkSync(SERVER_CONFIG, configLink);
    mkdirSync(join(directory, 'archival'), { recursive: true });

    const port = options.port || (await freePort());
    const ports = {
      TEMPORAL_FRONTEND_PORT: port,
      TEMPORAL_FRONTEND_HTTP_PORT: await freePort(),
      TEMPORAL_HISTORY_PORT: await freePort(),
      TEMPORAL_MATCHING_PORT: await freePort(),
      TEMPORAL_WORKER_PORT: await freePort(),
    };
    const membershipBase = await freeMembershipBase();
    const serverEnv: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '',
      ...dbEnv,
      ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
      TEMPORAL_MEMBERSHIP_PORT_BASE: String(membershipBase),
      TEMPORAL_BIND_IP: '127.0.0.1',
      TEMPORAL_HISTORY_SHARDS: String(historyShards),
      TEMPORAL_TLS_CERT: join(certs, `${SERVER_NAME}.pem`),
      TEMPORAL_TLS_KEY: join(certs, `${SERVER_NAME}.key`),
      TEMPORAL_TLS_CA: join(certs, 'ca.pem'),
      TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
      TEMPORAL_ARCHIVAL_DIR: join(directory, 'archival'),
      TEMPORAL_DYNAMIC_CONFIG: DYNAMIC_CONFIG,
      TEMPORAL_LOG_LEVEL: options.logLevel ?? 'warn',
    };
    const address = `127.0.0.1:${port}`;

    const connectionOptions = (part: ClusterPart): ConnectionOptions => ({
      address,
      tls: {
        serverNameOverride: SERVER_NAME,
        serverRootCACertificate: readFileSync(join(certs, 'ca.pem')),
        clientCertPair: {
          crt: readFileSync(join(certs, `${part}.pem`)),
          key: readFileSync(join(certs, `${part}.key`)),
        },
      },
    });
    const env = (part: ClusterPart): Record<string, string> => ({
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: namespace,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: join(certs, 'ca.pem'),
      TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
      TEMPORAL_TLS_CLIENT_CERT_PATH: join(certs, `${certificateName(part)}.pem`),
      TEMPORAL_TLS_CLIENT_KEY_PATH: join(certs, `${certificateName(part)}.key`),
    });
    const connect = async (part: ClusterPart = 'temporal-admin') =>
      new Client({ connection: await Connection.connect(connectionOptions(part)), namespace });

    let server: ChildProcess | undefined;
    const serverLog = join(directory, 'temporal.log');
    const startServer = async () => {
      log(`Starting the Temporal server ${binaries.server} on ${address} (log: ${serverLog})…`);
      const output = createWriteStream(serverLog, { flags: 'a' });
      const child = spawn(
        binaries.server,
        [
          '--root',
          join(directory, 'temporal'),
          '--config',
          'config',
          '--env',
          'spawnguard',
          '--allow-no-auth',
          'start',
        ],
        { env: serverEnv, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      child.stdout!.pipe(output);
      child.stderr!.pipe(output);
      server = child;
      const started = Date.now();
      await waitUntilServing(
        connectionOptions('temporal-admin'),
        options.readyTimeoutMs ?? 120_000,
        () =>
          child.exitCode !== null || child.signalCode !== null
            ? `exited with ${child.signalCode ?? child.exitCode}`
            : undefined,
        serverLog,
      );
      log(`  serving after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    };
    const stopServer = async (signal: NodeJS.Signals) => {
      const child = server;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      await new Promise<void>((done) => {
        const killTimer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('exit', () => {
          clearTimeout(killTimer);
          done();
        });
        child.kill(signal);
      });
    };
    stops.push(() => stopServer('SIGTERM'));

    await startServer();
    await provisionNamespace(connectionOptions('temporal-admin'), namespace, retentionMillis, directory, log);

    return {
      address,
      namespace,
      retention,
      directory,
      postgres,
      binaries,
      env,
      connectionOptions,
      connect,
      killServer: () => stopServer('SIGKILL'),
      startServer,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function waitUntilServing(
  options: ConnectionOptions,
  timeoutMs: number,
  exited: () => string | undefined,
  serverLog: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'not started';
  while (Date.now() < deadline) {
    const exit = exited();
    if (exit)
      throw new Error(`the Temporal server ${exit} before it served; its log: ${serverLog}\n${tail(serverLog)}`);
    try {
      const connection = await Connection.connect({ ...options, connectTimeout: 2_000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = (err as Error).message;
    }
    await new Promise((done) => setTimeout(done, 500));
  }
  throw new Error(`the Temporal server did not serve within ${timeoutMs} ms: ${lastError}\n${tail(serverLog)}`);
}

/** The log's last lines, each cut short (the server's errors carry whole stack traces). */
function tail(file: string): string {
  if (!existsSync(file)) return '';
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n').slice(-12);
  return lines.map((line) => (line.length > 400 ? `${line.slice(0, 400)}…` : line)).join('\n');
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const probe = createServer();
    probe.once('error', () => done(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => done(true)));
  });
}

/**
 * Membership ports are base + 3, 4, 5 and 9, and the server stores them in a PostgreSQL smallint:
 * a base below 32,758 whose four ports are free (the kernel's free-port pick is above that range).
 */
async function freeMembershipBase(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20_000 + 10 * Math.floor(Math.random() * 1_200);
    const free = await Promise.all([3, 4, 5, 9].map((offset) => portIsFree(base + offset)));
    if (free.every(Boolean)) return base;
  }
  throw new Error('no free block of membership ports between 20000 and 32000');
}

const GRPC_NOT_FOUND = 5;

/**
 * The namespace with its retention and archival (as docker-compose.yml's temporal-setup job makes
 * it), and spawnguard's search attributes; resolves once a query on them is answered.
 */
async function provisionNamespace(
  options: ConnectionOptions,
  namespace: string,
  retention: number,
  directory: string,
  log: (line: string) => void,
): Promise<void> {
  const connection = await Connection.connect(options);
  try {
    const service = connection.workflowService;
    const retentionDuration = msToTs(retention);
    const exists = await service.describeNamespace({ namespace }).then(
      () => true,
      (err: { code?: number }) => {
        if (err.code === GRPC_NOT_FOUND) return false;
        throw err;
      },
    );
    if (!exists) {
      log(`Creating namespace ${namespace} (retention ${retention / DAY_MS} days, archival in ${directory}/archival)…`);
      await service.registerNamespace({
        namespace,
        workflowExecutionRetentionPeriod: retentionDuration,
        historyArchivalState: 1, // ENABLED
        historyArchivalUri: `file://${directory}/archival/history`,
        visibilityArchivalState: 1,
        visibilityArchivalUri: `file://${directory}/archival/visibility`,
      });
    } else {
      await service.updateNamespace({ namespace, config: { workflowExecutionRetentionTtl: retentionDuration } });
    }
    // A new namespace reaches every service's cache within seconds: retried until it does.
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
        const missing = Object.entries(SEARCH_ATTRIBUTES).filter(([name]) => !(name in customAttributes));
        if (missing.length > 0) {
          log(`Registering search attributes: ${missing.map(([name]) => name).join(', ')}`);
          await connection.operatorService.addSearchAttributes({
            namespace,
            searchAttributes: Object.fromEntries(missing.map(([name, type]) => [name, indexedValueType(type)])),
          });
          continue;
        }
        await service.listWorkflowExecutions({ namespace, pageSize: 1, query: `Verdict = "malicious"` });
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`namespace ${namespace} not ready: ${(err as Error).message}`);
        await new Promise((done) => setTimeout(done, 500));
      }
    }
  } finally {
    await connection.close();
  }
}

/** temporal.api.enums.v1.IndexedValueType */
function indexedValueType(type: string): number {
  const types: Record<string, number> = {
    Text: 1,
    Keyword: 2,
    Int: 3,
    Double: 4,
    Bool: 5,
    Datetime: 6,
    KeywordList: 7,
  };
  const value = types[type];
  if (value === undefined) throw new Error(`unknown search attribute type ${type}`);
  return value;
}
