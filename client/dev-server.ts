/**
 * Starts and stops `temporal server start-dev` with spawnguard's search attributes registered.
 * Used by `npm run server`, the jest global setup and `spawnguard dev`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../common/names';
import { ensureTemporalBinary } from './temporal-binary';

export interface DevServerOptions {
  /** gRPC frontend port; 0 picks a free one. */
  port?: number;
  /** Web UI port; 0 picks a free one. Ignored when headless. */
  uiPort?: number;
  headless?: boolean;
  /** SQLite file: state survives a restart. Without it, state lives in memory. */
  dbFilename?: string;
  namespace?: string;
  ip?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Receives the server's own output lines, and provisioning progress. */
  log?: (line: string) => void;
  readyTimeoutMs?: number;
  /** The UI decodes encrypted payloads through this codec endpoint (e.g. http://localhost:3000/codec). */
  uiCodecEndpoint?: string;
}

export interface DevServer {
  address: string;
  namespace: string;
  uiUrl?: string;
  binaryPath: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export function searchAttributeFlags(): string[] {
  return Object.entries(SEARCH_ATTRIBUTES).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]);
}

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const log = options.log ?? (() => {});
  const binary = await ensureTemporalBinary(log);
  const ip = options.ip ?? '127.0.0.1';
  const port = options.port || (await freePort());
  const namespace = options.namespace ?? 'default';
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(port), '--namespace', namespace];
  args.push('--log-level', options.logLevel ?? 'warn', ...searchAttributeFlags());
  // One partition per task queue: task priority (containment before enumeration on a busy host) is
  // kept within a partition, so a single one keeps it exact. A dev server carries no load that needs more.
  args.push(
    '--dynamic-config-value',
    'matching.numTaskqueueReadPartitions=1',
    '--dynamic-config-value',
    'matching.numTaskqueueWritePartitions=1',
    '--dynamic-config-value',
    'matching.useNewMatcher=true',
  );
  let uiUrl: string | undefined;
  if (options.headless) {
    args.push('--headless');
  } else {
    const uiPort = options.uiPort || (await freePort());
    args.push('--ui-port', String(uiPort));
    uiUrl = `http://${ip}:${uiPort}`;
    if (options.uiCodecEndpoint) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
  }
  if (options.dbFilename) {
    args.push('--db-filename', options.dbFilename, '--sqlite-pragma', 'journal_mode=WAL');
  }

  const child = spawn(binary.path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let exited: string | undefined;
  const output: string[] = [];
  const onLine = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (!line.trim()) continue;
      output.push(line);
      if (output.length > 50) output.shift();
      log(line);
    }
  };
  child.stdout?.on('data', onLine);
  child.stderr?.on('data', onLine);
  child.on('exit', (code, signal) => (exited = `exited with ${signal ?? code}`));

  const address = `${ip}:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const killTimer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(killTimer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  };

  try {
    await waitUntilReady(address, namespace, options.readyTimeoutMs ?? 60_000, () => exited);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\nLast server output:\n${output.join('\n')}`);
  }
  return { address, namespace, uiUrl, binaryPath: binary.path, process: child, stop };
}

/** Ready means: the frontend answers and our search attributes are registered in the namespace. */
async function waitUntilReady(address: string, namespace: string, timeoutMs: number, exited: () => string | undefined) {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'not started';
  while (Date.now() < deadline) {
    const exit = exited();
    if (exit) throw new Error(`Temporal dev server ${exit} before it was ready`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2_000 });
      try {
        const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
        const missing = Object.keys(SEARCH_ATTRIBUTES).filter((name) => !(name in customAttributes));
        if (missing.length === 0) return;
        lastError = `search attributes not registered yet: ${missing.join(', ')}`;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = (err as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`Temporal dev server at ${address} not ready after ${timeoutMs} ms: ${lastError}`);
}
