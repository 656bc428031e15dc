/**
 * The central worker: polls `spawnguard-central` and runs the playbook and enrichment workflows
 * plus the central activities (reputation lookups, report and review-request emails). Host actions
 * run elsewhere, on each host's own worker. Run with `npx spawnguard worker central`.
 *
 * `runCentralWorker({ env?, signal? })` is what the CLI calls: it loads the config, connects,
 * serves until SIGINT/SIGTERM (or `signal` aborts), lets running activities finish, and resolves.
 * `createCentralWorker(...)` builds the Worker on a connection you own, for the dev stack and tests.
 */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createCentralActivities, type CentralActivitiesOptions } from '../activities/central';
import { createReputationService } from '../activities/enrichment';
import { describeMailConfiguration, mailConfiguration } from '../activities/notification';
import { loadConfig, type Config } from '../common/config';
import { CENTRAL_TASK_QUEUE } from '../common/names';
import { spawnguardDataConverter } from '../common/payload-codec';
import { configuredReviewLink } from '../activities/notification/review-links';
import { connectWorker, workerDefaults } from './connection';

/** Time a shutdown leaves running activities (an SMTP send, a reputation lookup) to finish. */
const SHUTDOWN_GRACE = '10s';

export interface CreateCentralWorkerOptions {
  config: Config;
  /** A connection the caller owns and closes (see `connectWorker` in worker/connection.ts). */
  connection: NativeConnection;
  /** Default `spawnguard-central`; tests use a queue of their own. */
  taskQueue?: string;
  /** Bundled in this process; default: the playbook and enrichment workflows, bundled in a child process. */
  workflowsPath?: string;
  /** A bundle made once with `bundleWorkflowCode`, instead of bundling `workflowsPath` again. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  activities?: CentralActivitiesOptions;
}

/**
 * Bundles the workflows in a child process (worker/bundle-workflows.ts) and returns the bundle's
 * path: webpack would otherwise stay in the worker's memory for its whole life.
 */
export async function bundleWorkflowsApart(
  workflowsPath: string,
  failureConverterPath?: string,
): Promise<{ codePath: string }> {
  const codePath = join(mkdtempSync(join(tmpdir(), 'spawnguard-workflows-')), 'workflows.js');
  const script = require.resolve('./bundle-workflows');
  await new Promise<void>((resolve, reject) => {
    execFile(
      process.execPath,
      [
        '--require',
        require.resolve('tsx/cjs'),
        script,
        workflowsPath,
        codePath,
        ...(failureConverterPath ? [failureConverterPath] : []),
      ],
      { maxBuffer: 16 * 1024 * 1024 },
      (err, _stdout, stderr) =>
        err ? reject(new Error(`bundling the workflows failed: ${stderr || err.message}`)) : resolve(),
    );
  });
  return { codePath };
}

export async function createCentralWorker(options: CreateCentralWorkerOptions): Promise<Worker> {
  const { config } = options;
  const bundledApart =
    options.workflowBundle || options.workflowsPath
      ? undefined
      : await bundleWorkflowsApart(
          require.resolve('../workflows'),
          spawnguardDataConverter(config.temporal)?.failureConverterPath,
        );
  try {
    return await Worker.create({
      connection: options.connection,
      ...workerDefaults(config.temporal),
      taskQueue: options.taskQueue ?? CENTRAL_TASK_QUEUE,
      ...(options.workflowBundle
        ? { workflowBundle: options.workflowBundle }
        : bundledApart
          ? { workflowBundle: bundledApart }
          : { workflowsPath: options.workflowsPath! }),
      activities: createCentralActivities(config, withConfiguredReviewLink(config, options.activities)),
      shutdownGraceTime: SHUTDOWN_GRACE,
    });
  } finally {
    // Worker.create has read the bundle into memory: the temporary file is not needed any more.
    if (bundledApart) rmSync(dirname(bundledApart.codePath), { recursive: true, force: true });
  }
}

/**
 * Review-request emails carry a signed review-page link whenever SPAWNGUARD_LINK_SECRET is set (the
 * ingest service verifies it with the same secret); a signer given by the caller takes precedence.
 */
function withConfiguredReviewLink(config: Config, options: CentralActivitiesOptions = {}): CentralActivitiesOptions {
  if (options.notification?.reviewLink) return options;
  const reviewLink = configuredReviewLink(config);
  return reviewLink ? { ...options, notification: { ...options.notification, reviewLink } } : options;
}

export interface CentralWorkerOptions {
  /** Environment for loadConfig; default process.env. */
  env?: Record<string, string | undefined>;
  /** Aborting it shuts the worker down, like SIGINT/SIGTERM. */
  signal?: AbortSignal;
  /** Default `spawnguard-central`. */
  taskQueue?: string;
  /** E.g. another mailer; review links are signed from the configuration unless given here. */
  activities?: CentralActivitiesOptions;
  log?: (line: string) => void;
}

/** What this worker will consult and where mail goes, without any key or password. */
export function describeCentralSetup(config: Config): string[] {
  const reputation = createReputationService(config);
  return [
    `reputation sources: ${reputation.enabled.map((p) => p.name).join(', ') || 'none'}`,
    ...reputation.disabled.map((p) => `  ${p.name} off: ${p.reason}`),
    describeMailConfiguration(mailConfiguration(config.env)),
  ];
}

/** Serves `spawnguard-central` until SIGINT/SIGTERM or `options.signal`; throws ConfigError on bad config. */
export async function runCentralWorker(options: CentralWorkerOptions = {}): Promise<void> {
  const log = options.log ?? ((line: string) => console.log(line));
  const config = loadConfig(options.env ?? process.env);
  // Reads the allow/deny lists now: a bad list stops the worker before it connects.
  const setup = describeCentralSetup(config);
  if (options.signal?.aborted) return;

  const connection = await connectWorker(config.temporal).catch((err: unknown) => {
    throw new Error(
      `Cannot connect to Temporal at ${config.temporal.address}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  });
  try {
    const worker = await createCentralWorker({
      config,
      connection,
      ...(options.taskQueue ? { taskQueue: options.taskQueue } : {}),
      ...(options.activities ? { activities: options.activities } : {}),
    });
    const taskQueue = options.taskQueue ?? CENTRAL_TASK_QUEUE;
    log(`spawnguard central worker polling ${taskQueue} on ${config.temporal.address} (${config.temporal.namespace})`);
    setup.forEach((line) => log(line));

    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
    let requestStop = () => {};
    const stopRequested = new Promise<void>((resolve) => (requestStop = resolve));
    signals.forEach((s) => process.once(s, requestStop));
    options.signal?.addEventListener('abort', requestStop, { once: true });
    // A stop asked for while the worker was being built (bundling takes seconds) still counts.
    if (options.signal?.aborted) requestStop();
    try {
      // Shuts the worker down once a stop is requested and waits for running activities to finish.
      await worker.runUntil(stopRequested);
      log('spawnguard central worker stopped');
    } finally {
      signals.forEach((s) => process.off(s, requestStop));
      options.signal?.removeEventListener('abort', requestStop);
    }
  } finally {
    await connection.close();
  }
}

if (require.main === module) {
  runCentralWorker().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
