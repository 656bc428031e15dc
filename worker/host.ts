/**
 * The host worker: one per Windows host, polling `spawnguard-host-<hostname>` and running the
 * PowerShell scripts in powershell/ locally (DESIGN.md §5). Activities only: workflows run on the
 * central worker. Run with `npx spawnguard worker host`, or as a Windows service (worker/host-service/).
 *
 * Anywhere but Windows it refuses to start unless lab mode is explicit (`--lab` or SPAWNGUARD_LAB=1);
 * lab mode serves the simulated host of activities/lab instead of PowerShell.
 */
import { Worker } from '@temporalio/worker';
import { existsSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { join, resolve } from 'node:path';
import { createHostActivities } from '../activities/host/activities';
import {
  countRunning,
  createHostControlActivities,
  refuseOtherHosts,
  type HostIdentity,
} from '../activities/host/control';
import { createWarmPool, defaultPowerShellPath, runScript, type RunnerOptions } from '../activities/host/runner';
import { workerProcessChain } from '../activities/host/safety';
import { loadManifest, MANIFEST_FILE_NAME, verifyAll, type ScriptManifest } from '../activities/host/script-manifest';
import { createLabHostActivities } from '../activities/lab/lab-host';
import { LabScenarioSchema, loadLabScenario } from '../activities/lab/scenario';
import { loadConfig } from '../common/config';
import type { HostActivities } from '../common/host-contract';
import {
  hostControlTaskQueue,
  hostQueueKey,
  hostTaskQueue,
  isQualifiedHostname,
  shortHostname,
  type HostQueueNaming,
} from '../common/names';
import { connectWorker, workerDefaults } from './connection';

export const DEFAULT_SCRIPTS_DIRECTORY = resolve(__dirname, '..', 'powershell');

/**
 * On stop, running scripts get this long to finish; then their activities are cancelled and the
 * runner kills their process trees. The service's stop timeout (host-service/spawnguard-host.xml)
 * must be longer.
 */
export const SHUTDOWN_GRACE_MS = 30_000;

export interface HostWorkerOptions {
  /**
   * Default: this machine's name. The task queue lower-cases it and strips the domain, or — with
   * SPAWNGUARD_HOST_QUEUE_NAMES=fqdn — keeps the full name (completed with SPAWNGUARD_HOST_DOMAIN).
   */
  hostname?: string;
  /** Environment for loadConfig; default process.env. */
  env?: Record<string, string | undefined>;
  /** Lab mode (`--lab`); SPAWNGUARD_LAB in the environment turns it on too. */
  lab?: boolean;
  /** Lab mode: the simulated host (activities/lab/scenario.ts); default an empty host named after `hostname`. */
  labScenarioPath?: string;
  /** Lab mode: keep the simulated host's state in this file across restarts. */
  labStateFile?: string;
  scriptsDirectory?: string;
  /** Default: <scriptsDirectory>/manifest.json. */
  manifestPath?: string;
  /** Default: SPAWNGUARD_POWERSHELL_PATH, else Windows PowerShell under %SystemRoot%. */
  powershellPath?: string;
  platform?: NodeJS.Platform;
  /** Aborting it shuts the worker down, like SIGINT/SIGTERM. */
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** Called once the worker is polling (tests and the service wrapper's logs). */
  onPolling?: (taskQueue: string) => void;
}

export type HostPlatformCheck = { ok: true; lab: boolean } | { ok: false; reason: string };

/** The host worker runs Windows PowerShell: anywhere else it needs lab mode, explicitly. */
export function checkHostPlatform(platform: NodeJS.Platform, lab: boolean): HostPlatformCheck {
  if (platform === 'win32' || lab) return { ok: true, lab };
  return {
    ok: false,
    reason:
      `The host worker runs Windows PowerShell scripts and refuses to start on ${platform}. ` +
      'Run it with --lab (or SPAWNGUARD_LAB=1) for the simulated lab host: no real remediation.',
  };
}

/**
 * The manifest that pins the scripts, checked against every script now: a worker whose scripts do
 * not match refuses to start rather than failing each action later.
 */
export async function loadVerifiedManifest(scriptsDirectory: string, manifestPath?: string): Promise<ScriptManifest> {
  const file = manifestPath ?? join(scriptsDirectory, MANIFEST_FILE_NAME);
  if (!existsSync(file)) {
    throw new Error(
      `Script manifest ${file} not found: run \`npx tsx scripts/powershell-manifest.ts\` in the checkout`,
    );
  }
  const manifest = await loadManifest(file);
  const check = await verifyAll(scriptsDirectory, manifest);
  if (!check.ok) {
    throw new Error(
      `The scripts in ${scriptsDirectory} do not match ${file}; refusing to start:\n` +
        check.problems.map((p) => `  - ${p}`).join('\n'),
    );
  }
  return manifest;
}

/**
 * On Windows Node only knows its direct parent; the full chain (node ← npx/cmd ← service wrapper…)
 * comes from GetProcessTree, so no remediation can take the worker down through an ancestor.
 */
async function windowsParentChain(runner: RunnerOptions, log: (line: string) => void): Promise<number[]> {
  try {
    const tree = await runScript('GetProcessTree', { processIds: [process.pid] }, { ...runner, timeoutMs: 60_000 });
    return tree.results.flatMap((info) => info.parentChain.map((p) => p.pid));
  } catch (err) {
    log(`Could not read the worker's parent chain (${(err as Error).message}); protecting PID and parent only`);
    return [];
  }
}

async function powershellActivities(
  options: HostWorkerOptions,
  env: Record<string, string | undefined>,
  config: ReturnType<typeof loadConfig>,
  platform: NodeJS.Platform,
  log: (line: string) => void,
): Promise<{ activities: HostActivities; close: () => Promise<void> }> {
  const scriptsDirectory = resolve(options.scriptsDirectory ?? DEFAULT_SCRIPTS_DIRECTORY);
  const runner: RunnerOptions = {
    scriptsDirectory,
    manifest: await loadVerifiedManifest(scriptsDirectory, options.manifestPath),
    powershellPath: options.powershellPath ?? defaultPowerShellPath(env),
    executionPolicy: config.env.SPAWNGUARD_POWERSHELL_POLICY === 'allsigned' ? 'AllSigned' : 'Bypass',
  };
  const ancestors = platform === 'win32' ? await windowsParentChain(runner, log) : [];
  const chain = [...new Set([...workerProcessChain(platform), ...ancestors])];
  log(`Protecting the worker's own process chain: ${chain.join(' ← ')}`);
  // Warm: scripts run on long-lived PowerShell hosts (no start-up per action); cold when none can start.
  const warm =
    config.env.SPAWNGUARD_POWERSHELL_RUNNER === 'warm'
      ? createWarmPool(runner, { size: config.env.SPAWNGUARD_POWERSHELL_WARM_PROCESSES, log })
      : undefined;
  // The first host starts now, so the first incident's first action does not wait for PowerShell.
  warm?.prestart(1).catch((err: unknown) => log(`Could not start a warm PowerShell host: ${(err as Error).message}`));
  log(
    warm
      ? `PowerShell runner: warm (up to ${config.env.SPAWNGUARD_POWERSHELL_WARM_PROCESSES} hosts, cold when none can start)`
      : 'PowerShell runner: cold (a PowerShell process per action)',
  );
  const activities = createHostActivities({
    ...runner,
    ...(warm ? { warm } : {}),
    workerProcessIds: () => chain,
    ...(config.env.SPAWNGUARD_QUARANTINE_DIR ? { quarantineDirectory: config.env.SPAWNGUARD_QUARANTINE_DIR } : {}),
    trustedPublishers: config.env.SPAWNGUARD_TRUSTED_PUBLISHERS,
  });
  return { activities, close: async () => warm?.close() };
}

function labActivities(options: HostWorkerOptions, hostname: string, log: (line: string) => void): HostActivities {
  const scenario = options.labScenarioPath
    ? loadLabScenario(options.labScenarioPath)
    : LabScenarioSchema.parse({ hostname: shortHostname(hostname) });
  return createLabHostActivities(scenario, {
    ...(options.labStateFile ? { stateFile: options.labStateFile } : {}),
    log: (message, fields) => log(`[lab ${scenario.hostname}] ${message} ${JSON.stringify(fields)}`),
  });
}

/**
 * This host's names: the machine name (on Windows the short, NetBIOS-style one) and its fully
 * qualified name when it is known — given whole, or completed with SPAWNGUARD_HOST_DOMAIN.
 */
export function hostIdentity(hostname: string, domain?: string): HostIdentity {
  if (isQualifiedHostname(hostname)) return { hostname: shortHostname(hostname), fqdn: hostname.toLowerCase() };
  return { hostname, ...(domain ? { fqdn: `${shortHostname(hostname)}.${domain.toLowerCase()}` } : {}) };
}

export async function runHostWorker(options: HostWorkerOptions = {}): Promise<void> {
  const log = options.log ?? ((line: string) => console.log(line));
  const env = options.env ?? process.env;
  const config = loadConfig(env);
  const platform = options.platform ?? process.platform;
  const check = checkHostPlatform(platform, Boolean(options.lab) || config.env.SPAWNGUARD_LAB);
  if (!check.ok) throw new Error(check.reason);

  const hostname = options.hostname ?? osHostname();
  const { activities, close } = check.lab
    ? { activities: labActivities(options, hostname, log), close: async () => {} }
    : await powershellActivities(options, env, config, platform, log);

  const identity = hostIdentity(hostname, config.env.SPAWNGUARD_HOST_DOMAIN);
  const naming: HostQueueNaming = { names: config.env.SPAWNGUARD_HOST_QUEUE_NAMES };
  const queueHost = identity.fqdn ?? hostname;
  if (hostQueueKey(queueHost, naming) === null) {
    throw new Error(
      `Host queues are named by fully qualified name (SPAWNGUARD_HOST_QUEUE_NAMES=fqdn) and this host's name, ` +
        `${hostname}, has no domain: set SPAWNGUARD_HOST_DOMAIN to this host's DNS domain (e.g. contoso.local)`,
    );
  }
  const taskQueue = hostTaskQueue(queueHost, naming);
  const connection = await connectWorker(config.temporal).catch((err: unknown) => {
    throw new Error(`Cannot reach Temporal at ${config.temporal.address}: ${(err as Error).message}`);
  });
  try {
    const counted = countRunning(activities);
    const worker = await Worker.create({
      ...workerDefaults(config.temporal),
      connection,
      taskQueue,
      // A request for another host (a namesake on a shared short-name queue) is refused, never run.
      activities: refuseOtherHosts(counted.activities, identity),
      // PowerShell processes are heavy; a host handles a few actions at a time.
      maxConcurrentActivityTaskExecutions: 4,
      shutdownGraceTime: SHUTDOWN_GRACE_MS,
    });
    // The liveness queue has slots of its own: a busy host still answers at once.
    const control = await Worker.create({
      ...workerDefaults(config.temporal),
      connection,
      taskQueue: hostControlTaskQueue(queueHost, naming),
      activities: createHostControlActivities(identity, check.lab, counted.load),
      maxConcurrentActivityTaskExecutions: 8,
      shutdownGraceTime: SHUTDOWN_GRACE_MS,
    });
    // run() is RUNNING as soon as it is called, so a stop request can arrive any time after this.
    const running = Promise.all([worker.run(), control.run()]).then(() => undefined);
    const shutdown = () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      if (control.getState() === 'RUNNING') control.shutdown();
    };
    // Ctrl+C, the service wrapper's stop (it sends Ctrl+C first), `kill`, and Ctrl+Break on Windows.
    const signals: NodeJS.Signals[] = platform === 'win32' ? ['SIGINT', 'SIGTERM', 'SIGBREAK'] : ['SIGINT', 'SIGTERM'];
    signals.forEach((s) => process.on(s, shutdown));
    options.signal?.addEventListener('abort', shutdown, { once: true });
    if (options.signal?.aborted) shutdown();
    log(
      `spawnguard host worker for ${identity.fqdn ?? hostname} polling ${taskQueue} on ${config.temporal.address}` +
        (check.lab ? ' (lab mode: simulated host, no real remediation)' : ''),
    );
    options.onPolling?.(taskQueue);
    try {
      await running;
    } finally {
      signals.forEach((s) => process.off(s, shutdown));
      options.signal?.removeEventListener('abort', shutdown);
    }
    log('spawnguard host worker stopped');
  } finally {
    await close();
    await connection.close();
  }
}
