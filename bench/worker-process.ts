/**
 * One worker of the bench in a process of its own, forked by bench/workers.ts, so that its memory is
 * its own and the topology is production's: the central worker and the host worker apart. The real
 * workers are configured from the environment by loadConfig, as `spawnguard worker central|host`
 * are; the baseline's workers (bench/workflows/baseline.ts) mirror them with no-op activities.
 *
 * Talks to its parent over the IPC channel: `ready` once polling; answers `memory`; `stop` shuts the
 * worker down and exits.
 */
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { loadConfig } from '../common/config';
import { connectWorker } from '../worker/connection';
import { createCentralWorker } from '../worker/central';
import { runHostWorker } from '../worker/host';
import { loadLabScenario } from '../activities/lab/scenario';
import { ParentMessageSchema, WorkerProcessArgsSchema, type ChildMessage, type WorkerProcessArgs } from './protocol';
import type { BaselineActivities } from './workflows/baseline';

function send(message: ChildMessage): void {
  process.send?.(message);
}

/** Starts the worker; resolves once it polls, with its end (wrapped: an async function would wait for it). */
async function start(args: WorkerProcessArgs, stop: AbortSignal): Promise<{ running: Promise<void> }> {
  const config = loadConfig(process.env);
  if (args.role === 'host') {
    const scenario = loadLabScenario(args.scenarioPath);
    let polling!: () => void;
    const isPolling = new Promise<void>((resolve) => (polling = resolve));
    const running = runHostWorker({
      env: process.env,
      hostname: scenario.hostname,
      lab: true,
      labScenarioPath: args.scenarioPath,
      signal: stop,
      log: () => {},
      onPolling: () => polling(),
    });
    await Promise.race([isPolling, running.then(() => Promise.reject(new Error('the host worker stopped at start')))]);
    return { running };
  }

  const connection =
    args.role === 'central'
      ? await connectWorker(config.temporal)
      : await NativeConnection.connect({ address: config.temporal.address });
  const activities: BaselineActivities = { noop: async (step) => step };
  const worker =
    args.role === 'central'
      ? await createCentralWorker({
          config,
          connection,
          taskQueue: args.taskQueue,
          ...(args.bundlePath ? { workflowBundle: { codePath: args.bundlePath } } : {}),
        })
      : await Worker.create({
          connection,
          namespace: config.temporal.namespace,
          taskQueue: args.taskQueue,
          activities,
          ...(args.role === 'baseline-central'
            ? { workflowsPath: require.resolve('./workflows/baseline') }
            : // The real host worker's limit (worker/host.ts).
              { maxConcurrentActivityTaskExecutions: 4 }),
        });
  const running = worker.run();
  const shutdown = () => worker.getState() === 'RUNNING' && worker.shutdown();
  stop.addEventListener('abort', shutdown, { once: true });
  if (stop.aborted) shutdown();
  return { running: running.finally(() => connection.close()) };
}

async function main(): Promise<void> {
  const args = WorkerProcessArgsSchema.parse(JSON.parse(process.argv[2] ?? '{}'));
  // The workers' own lifecycle lines (bundling, state changes) would bury the bench's table.
  Runtime.install({ logger: new DefaultLogger('WARN') });

  const stop = new AbortController();
  // The parent going away (a crash, Ctrl+C) stops the worker too.
  process.on('disconnect', () => stop.abort());
  process.on('message', (raw) => {
    const message = ParentMessageSchema.safeParse(raw);
    if (!message.success) return;
    if (message.data.type === 'stop') stop.abort();
    // resourceUsage().maxRSS is in kilobytes.
    else
      send({ type: 'memory', maxRssBytes: process.resourceUsage().maxRSS * 1024, rssBytes: process.memoryUsage.rss() });
  });

  const { running } = await start(args, stop.signal);
  // From the process's own start: loading and compiling the modules is part of starting a worker.
  send({ type: 'ready', startupMs: performance.now() });
  await running;
  if (process.connected) process.disconnect();
}

main().catch((err: unknown) => {
  send({ type: 'failed', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  console.error(err);
  process.exit(1);
});
