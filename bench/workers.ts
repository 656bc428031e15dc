/**
 * Starts the bench's worker processes (bench/worker-process.ts) and talks to them: wait until they
 * poll, ask for their memory, stop them. Each runs under tsx like `npm run bench` itself.
 */
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
