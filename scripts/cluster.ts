/**
 * `npm run cluster`: the production topology's Temporal on this machine — PostgreSQL in a folder
 * of the project, the schema set up (and upgraded) by the schema tool, the Temporal server 1.29.1
 * reading deploy/temporal-server.yaml (the file docker-compose.yml mounts) with mutual TLS, the
 * namespace with its retention and archival, spawnguard's search attributes. Runs until Ctrl+C,
 * then stops the server and PostgreSQL cleanly. Prints what spawnguard's processes need to join.
 */
import { Command, InvalidArgumentError } from 'commander';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { retentionMs, startCluster, type ClusterPart } from './lib/cluster';

const HostnameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/, 'a host name (letters, digits, dots, hyphens)');

function port(value: string): number {
  const parsed = z.coerce.number().int().min(1).max(65535).safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError('a port from 1 to 65535');
  return parsed.data;
}

function shards(value: string): number {
  const parsed = z.coerce.number().int().min(1).max(16_384).safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError('a whole number from 1 to 16384');
  return parsed.data;
}

function retention(value: string): string {
  try {
    retentionMs(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  return value;
}

function hostnames(value: string, previous: string[] = []): string[] {
  const names = value.split(',').filter(Boolean);
  for (const name of names) {
    const parsed = HostnameSchema.safeParse(name);
    if (!parsed.success) throw new InvalidArgumentError(`"${name}" is not ${parsed.error.issues[0]?.message}`);
  }
  return [...previous, ...names];
}

interface Options {
  dir: string;
  port: number;
  postgresPort?: number;
  retention: string;
  shards?: number;
  host: string[];
  reset?: boolean;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

const program = new Command('npm run cluster --')
  .description(
    "Run the production topology's Temporal here: PostgreSQL and the Temporal server 1.29.1 with mutual TLS, " +
      'from deploy/temporal-server.yaml (shared with docker-compose.yml). Ctrl+C stops both; state stays in --dir.',
  )
  .option('--dir <folder>', 'where PostgreSQL, certificates and logs live', '.spawnguard/cluster')
  .option('--port <port>', 'the Temporal frontend port (gRPC, mutual TLS)', port, 7233)
  .option('--postgres-port <port>', 'PostgreSQL port on 127.0.0.1 (default: a free one)', port)
  .option(
    '--retention <duration>',
    'how long closed incidents stay before archival (e.g. 30d, 72h)',
    retention,
    process.env.TEMPORAL_RETENTION || '30d',
  )
  .option('--shards <count>', 'history shards, fixed when the cluster is first created (default: 128)', shards)
  .option(
    '--host <names>',
    'Windows hosts to make client certificates for (comma-separated, repeatable)',
    hostnames,
    [],
  )
  .option('--reset', 'delete the folder first: a new, empty cluster')
  .option('--log-level <level>', 'the Temporal server log level', 'warn')
  .addHelpText(
    'after',
    '\nExamples:\n' +
      '  npm run cluster                          # on 127.0.0.1:7233, state in .spawnguard/cluster\n' +
      '  npm run cluster -- --host web01,web02    # also certificates for two host workers\n' +
      '  npm run cluster -- --reset --shards 512  # a fresh cluster with production-sized sharding\n' +
      '\nThen start spawnguard against it with the environment it prints (README "Running the production topology").',
  );

async function main(): Promise<void> {
  program.parse(process.argv);
  const options = program.opts<Options>();
  const logLevel = z.enum(['debug', 'info', 'warn', 'error']).safeParse(options.logLevel);
  if (!logLevel.success) program.error('--log-level must be debug, info, warn or error');
  const directory = resolve(options.dir);
  if (options.reset) {
    console.log(`Deleting ${directory} (--reset)…`);
    rmSync(directory, { recursive: true, force: true });
  }
  const started = Date.now();
  const cluster = await startCluster({
    directory,
    port: options.port,
    ...(options.postgresPort ? { postgresPort: options.postgresPort } : {}),
    retention: options.retention,
    ...(options.shards ? { historyShards: options.shards } : {}),
    hosts: options.host,
    logLevel: logLevel.data!,
    log: (line) => console.log(line),
  });
  const show = (part: ClusterPart) =>
    Object.entries(cluster.env(part))
      .map(([key, value]) => `    ${key}=${value}`)
      .join('\n');
  console.log(
    `\nTemporal on PostgreSQL ready at ${cluster.address} after ${((Date.now() - started) / 1000).toFixed(1)} s ` +
      `(namespace ${cluster.namespace}, retention ${cluster.retention}, mutual TLS).\n` +
      `  PostgreSQL:  ${cluster.postgres.host}:${cluster.postgres.port} (user ${cluster.postgres.user}; log ${cluster.postgres.logFile})\n` +
      `  Server log:  ${cluster.directory}/temporal.log\n` +
      `  Certificates: ${cluster.directory}/certs\n\n` +
      `The central worker joins with:\n${show('spawnguard-central')}\n` +
      `The ingest service with:\n${show('spawnguard-ingest')}\n` +
      `Press Ctrl+C to stop.`,
  );
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  console.log('Stopping the Temporal server, then PostgreSQL…');
  await cluster.stop();
  console.log('Stopped.');
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
