/**
 * Starts the bench's worker processes (bench/worker-process.ts) and talks to them: wait until they
 * poll, ask for their memory, stop them. Each runs under tsx like `npm run bench` itself.
 */
import { startMailCatcher, type MailCatcher } from '../client/mail-catcher';
import { fork, type ChildProcess } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { ChildMessageSchema, type ChildMessage, type ParentMessage, type WorkerProcessArgs } from './protocol';

export interface WorkerMemory {
  /** Peak RSS over the process's whole life. */
  maxRssBytes: number;
  rssBytes: number;
}

export interface WorkerProcess {
  pid: number;
  startupMs: number;
  memory(): Promise<WorkerMemory>;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 180_000;

export async function startWorkerProcess(
  args: WorkerProcessArgs,
  env: Record<string, string | undefined>,
): Promise<WorkerProcess> {
  const child: ChildProcess = fork(require.resolve('./worker-process'), [JSON.stringify(args)], {
    env,
    execArgv: ['--import', pathToFileURL(require.resolve('tsx')).href],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start the ${args.role} worker process`);
  /** The next message of `type`; rejects on a `failed` message, on the process's exit, or after `timeoutMs`. */
  const next = <T extends ChildMessage['type']>(type: T, timeoutMs: number) =>
    new Promise<Extract<ChildMessage, { type: T }>>((resolve, reject) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        reject(new Error(`the ${args.role} worker process has exited`));
        return;
      }
      const done = () => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`the ${args.role} worker process sent no ${type} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        done();
        reject(new Error(`the ${args.role} worker process exited (${signal ?? code}) before it sent ${type}`));
      };
      const onMessage = (raw: unknown) => {
        const message = ChildMessageSchema.safeParse(raw);
        if (!message.success) return;
        if (message.data.type === 'failed') {
          done();
          reject(new Error(`the ${args.role} worker process failed: ${message.data.message}`));
        } else if (message.data.type === type) {
          done();
          resolve(message.data as Extract<ChildMessage, { type: T }>);
        }
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const tell = (message: ParentMessage) => child.send(message);

  let ready: Extract<ChildMessage, { type: 'ready' }>;
  try {
    ready = await next('ready', READY_TIMEOUT_MS);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }

  return {
    pid,
    startupMs: ready.startupMs,
    async memory() {
      const answer = next('memory', 10_000);
      tell({ type: 'memory' });
      const { maxRssBytes, rssBytes } = await answer;
      return { maxRssBytes, rssBytes };
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
      if (child.connected) tell({ type: 'stop' });
      else child.kill('SIGTERM');
      await gone;
      clearTimeout(kill);
    },
  };
}

/**
 * The configuration the bench's workers load, as `spawnguard worker …` would from the environment:
 * no reputation source (a developer's own VirusTotal key must not be spent, nor rate-limit the run),
 * email to the mail catcher on `smtpPort`, lab mode, no payload encryption; `temporal` says which
 * server to reach and how (TEMPORAL_ADDRESS, and TLS for the cluster).
 */
export function benchWorkerEnvironment(
  temporal: Record<string, string>,
  smtpPort: number,
): Record<string, string | undefined> {
  return {
    ...process.env,
    ...temporal,
    TEMPORAL_API_KEY: undefined,
    VT_API_KEY: undefined,
    MALWAREBAZAAR_API_KEY: undefined,
    SPAWNGUARD_ALLOWLIST: undefined,
    SPAWNGUARD_DENYLIST: undefined,
    SPAWNGUARD_PAYLOAD_KEY: undefined,
    SMTP_URL: undefined,
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: String(smtpPort),
    SMTP_USER: undefined,
    SMTP_PASSWORD: undefined,
    MAIL_TO: 'soc@localhost',
    SPAWNGUARD_LAB: '1',
  };
}

/** A mail catcher that notes when each incident's email arrived (the X-Spawnguard-Incident header). */
export async function timedMailCatcher(): Promise<{
  mail: MailCatcher;
  arrivedAt: (workflowId: string) => number | undefined;
}> {
  const arrivals = new Map<string, number>();
  const mail = await startMailCatcher({
    smtpPort: 0,
    webPort: 0,
    onMessage: (message) => {
      const incident = message.parsed.headers.get('x-spawnguard-incident');
      if (typeof incident === 'string') arrivals.set(incident, performance.now());
    },
  });
  return { mail, arrivedAt: (workflowId) => arrivals.get(workflowId) };
}
