/**
 * The production topology, started for the cluster tests as an operator runs it: the native
 * cluster (Temporal 1.29.1 on PostgreSQL, mutual TLS, deploy/temporal-server.yaml), two ingest
 * replicas and two central workers as separate `spawnguard` processes with their own certificates,
 * lab host workers, a real SMTP server and the local stand-in for VirusTotal and MalwareBazaar.
 * Payloads are encrypted as in production; tests read incidents through the ingest's HTTP API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import { DEMO_DIRECTORY } from '../../client/dev-stack';
import { startMailCatcher, type MailCatcher } from '../../client/mail-catcher';
import type { IncidentStatus } from '../../common/incident-status';
import { CENTRAL_TASK_QUEUE, hostTaskQueue } from '../../common/names';
import { startCluster, type Cluster, type ClusterPart } from '../../scripts/lib/cluster';
import { freePort } from '../../client/dev-server';
import { startFakeReputationApi, VALID_KEY, type FakeReputationApi } from '../enrichment/fake-reputation-api';

const ROOT = resolve(__dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'spawnguard.js');

export interface Part {
  name: string;
  process: ChildProcess;
  logFile: string;
  url?: string;
}

export interface Topology {
  cluster: Cluster;
  admin: Client;
  mail: MailCatcher;
  reputation: FakeReputationApi;
  ingestToken: string;
  ingest: Part[];
  central: Part[];
  hosts: Map<string, Part>;
  directory: string;
  startHost(hostname: string, scenario: object): Promise<Part>;
  /** kill -9 of one spawnguard process. */
  kill(part: Part): Promise<void>;
  /** The last lines of every part's log and the server's, for a failure message. */
  logs(): string;
  stop(): Promise<void>;
}

const SECRETS = {
  ingestToken: randomBytes(18).toString('base64url'),
  linkSecret: randomBytes(32).toString('base64url'),
  payloadKey: randomBytes(32).toString('base64'),
};

function tail(file: string, lines = 15): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8')
    .trimEnd()
    .split('\n')
    .slice(-lines)
    .map((line) => (line.length > 300 ? `${line.slice(0, 300)}…` : line))
    .join('\n');
}

export async function startTopology(options: { replicas?: number; centralWorkers?: number } = {}): Promise<Topology> {
  const directory = mkdtempSync(join(tmpdir(), 'spawnguard-cluster-'));
  // PostgreSQL runs as the postgres user when tests run as root: it must reach its folder.
  chmodSync(directory, 0o755);
  const cluster = await startCluster({
    directory: join(directory, 'cluster'),
    hosts: ['web01', 'web02'],
    // A small shard count: the test cluster starts and restarts fast (production: docs/operations.md).
    historyShards: 8,
    retention: '3d',
  });
  const parts: Part[] = [];
  const admin = await cluster.connect('temporal-admin');
  const mail = await startMailCatcher({ smtpPort: 0, webPort: 0, folder: join(directory, 'mail') });
  const reputation = await startFakeReputationApi();

  const ingestPorts = await Promise.all(Array.from({ length: options.replicas ?? 2 }, () => freePort()));
  const environment = (part: ClusterPart): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    ...(process.env.XDG_CACHE_HOME ? { XDG_CACHE_HOME: process.env.XDG_CACHE_HOME } : {}),
    ...cluster.env(part),
    SPAWNGUARD_LAB: '1',
    // No analyst answers the removal proposals of the lab host's Run key here: they expire at once
    // and the incident closes (issue 17's approval flow is tested on the dev server).
    SPAWNGUARD_PERSISTENCE_REVIEW_TIMEOUT: '1s',
    SPAWNGUARD_LOG_LEVEL: 'info',
    SPAWNGUARD_INGEST_TOKEN: SECRETS.ingestToken,
    SPAWNGUARD_LINK_SECRET: SECRETS.linkSecret,
    SPAWNGUARD_PAYLOAD_KEY: SECRETS.payloadKey,
    SPAWNGUARD_PUBLIC_URL: `http://127.0.0.1:${ingestPorts[0]}`,
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: String(mail.smtpPort),
    MAIL_TO: 'soc@example.test',
    VT_API_KEY: VALID_KEY,
    VT_API_URL: reputation.vtUrl,
    MALWAREBAZAAR_API_KEY: VALID_KEY,
    MALWAREBAZAAR_API_URL: reputation.mbUrl,
    SPAWNGUARD_ALLOWLIST: join(DEMO_DIRECTORY, 'allowlist.txt'),
    SPAWNGUARD_DENYLIST: join(DEMO_DIRECTORY, 'denylist.txt'),
  });

  const launch = (name: string, part: ClusterPart, args: string[], extra: NodeJS.ProcessEnv = {}): Part => {
    const logFile = join(directory, `${name}.log`);
    const output = createWriteStream(logFile);
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...environment(part), ...extra },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.pipe(output);
    child.stderr!.pipe(output);
    const launched = { name, process: child, logFile };
    parts.push(launched);
    return launched;
  };
  const exitedEarly = (part: Part) =>
    part.process.exitCode !== null || part.process.signalCode !== null
      ? new Error(`${part.name} exited (${part.process.signalCode ?? part.process.exitCode}):\n${tail(part.logFile)}`)
      : undefined;

  /** Until `count` distinct workers poll the queue (workflow tasks, or activity tasks with `activities`). */
  const pollers = async (taskQueue: string, count: number, watched: Part[], activities = false) => {
    const deadline = Date.now() + 120_000;
    for (;;) {
      for (const part of watched) {
        const exited = exitedEarly(part);
        if (exited) throw exited;
      }
      const { pollers: seen } = await admin.workflowService.describeTaskQueue({
        namespace: cluster.namespace,
        taskQueue: { name: taskQueue },
        taskQueueType: activities ? 2 : 1,
      });
      if (new Set((seen ?? []).map((p) => p.identity)).size >= count) return;
      if (Date.now() > deadline) throw new Error(`${taskQueue}: fewer than ${count} pollers after 120 s`);
      await new Promise((done) => setTimeout(done, 500));
    }
  };

  const codecPorts = await Promise.all(ingestPorts.map(() => freePort()));
  const ingest = ingestPorts.map((port, index) => {
    const part = launch(
      `ingest-${index + 1}`,
      'spawnguard-ingest',
      ['serve', '--port', String(port), '--host', '127.0.0.1'],
      // Each replica's payload codec listener (for the Temporal UI) on a port of its own.
      { SPAWNGUARD_CODEC_LISTEN: `127.0.0.1:${codecPorts[index]}` },
    );
    part.url = `http://127.0.0.1:${port}`;
    return part;
  });
  const central = Array.from({ length: options.centralWorkers ?? 2 }, (_, index) =>
    launch(`central-${index + 1}`, 'spawnguard-central', ['worker', 'central']),
  );
  const hosts = new Map<string, Part>();

  const startHost = async (hostname: string, scenario: object): Promise<Part> => {
    const scenarioFile = join(directory, `${hostname}-scenario.json`);
    writeFileSync(scenarioFile, JSON.stringify({ ...scenario, hostname }));
    const part = launch(`host-${hostname}`, `spawnguard-host-${hostname}`, [
      'worker',
      'host',
      '--lab',
      '--hostname',
      hostname,
      '--lab-scenario',
      scenarioFile,
      '--lab-state',
      join(directory, `${hostname}-state.json`),
    ]);
    hosts.set(hostname, part);
    await pollers(hostTaskQueue(hostname), 1, [part], true);
    return part;
  };

  const kill = (part: Part) =>
    new Promise<void>((done) => {
      if (part.process.exitCode !== null || part.process.signalCode !== null) return done();
      part.process.once('exit', () => done());
      part.process.kill('SIGKILL');
    });

  const stop = async () => {
    await Promise.all(
      parts.map(
        (part) =>
          new Promise<void>((done) => {
            if (part.process.exitCode !== null || part.process.signalCode !== null) return done();
            const force = setTimeout(() => part.process.kill('SIGKILL'), 20_000);
            part.process.once('exit', () => {
              clearTimeout(force);
              done();
            });
            part.process.kill('SIGTERM');
          }),
      ),
    );
    await admin.connection.close();
    await mail.close();
    await reputation.close();
    await cluster.stop();
    rmSync(directory, { recursive: true, force: true });
  };

  const topology: Topology = {
    cluster,
    admin,
    mail,
    reputation,
    ingestToken: SECRETS.ingestToken,
    ingest,
    central,
    hosts,
    directory,
    startHost,
    kill,
    logs: () =>
      [
        ...parts.map((p) => `--- ${p.name}\n${tail(p.logFile)}`),
        `--- temporal\n${tail(join(cluster.directory, 'temporal.log'))}`,
      ].join('\n'),
    stop,
  };
  try {
    await pollers(CENTRAL_TASK_QUEUE, central.length, central);
    await pollers(CENTRAL_TASK_QUEUE, central.length, central, true);
    for (const part of ingest) {
      await waitUntil(
        async () => {
          const exited = exitedEarly(part);
          if (exited) throw exited;
          return (await fetch(`${part.url}/readyz`).catch(() => null))?.ok === true;
        },
        60_000,
        `${part.name} ready`,
      );
    }
    return topology;
  } catch (err) {
    const logs = topology.logs();
    await stop().catch(() => {});
    throw new Error(`${(err as Error).message}\n${logs}`);
  }
}

async function waitUntil(probe: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((done) => setTimeout(done, 250));
  }
}

/** The demo alert of this kind, with fields changed (a new incident: other PIDs, another alert id). */
export function demoAlert(
  kind: 'malicious' | 'suspicious' | 'benign',
  changes: DemoChanges = {},
): Record<string, unknown> {
  const alert = JSON.parse(readFileSync(join(DEMO_DIRECTORY, 'alerts', `${kind}.json`), 'utf8')) as DemoAlert;
  if (changes.alertId) alert.alertId = changes.alertId;
  if (changes.hostname) alert.host.hostname = changes.hostname;
  if (changes.childPid !== undefined) alert.child.pid = changes.childPid;
  if (changes.ruleName) alert.ruleName = changes.ruleName;
  return alert as unknown as Record<string, unknown>;
}

interface DemoAlert {
  alertId: string;
  ruleName: string;
  host: { hostname: string };
  child: { pid: number };
}

export interface DemoChanges {
  alertId?: string;
  hostname?: string;
  childPid?: number;
  ruleName?: string;
}

export function demoScenario(): object {
  return JSON.parse(readFileSync(join(DEMO_DIRECTORY, 'host.json'), 'utf8')) as object;
}

/** The ingest's HTTP API on one replica, as a SIEM and the CLI use it. */
export function api(topology: Topology, replica: Part) {
  const headers = { authorization: `Bearer ${topology.ingestToken}`, 'content-type': 'application/json' };
  return {
    post: (alert: Record<string, unknown>) =>
      fetch(`${replica.url}/v1/alerts`, { method: 'POST', headers, body: JSON.stringify(alert) }),
    status: async (workflowId: string): Promise<IncidentStatus> => {
      const response = await fetch(`${replica.url}/v1/incidents/${encodeURIComponent(workflowId)}`, { headers });
      if (!response.ok) throw new Error(`status ${workflowId}: ${response.status} ${await response.text()}`);
      return (await response.json()) as IncidentStatus;
    },
    review: (workflowId: string, decision: 'approve' | 'reject', analyst = 'alice') =>
      fetch(`${replica.url}/v1/incidents/${encodeURIComponent(workflowId)}/review`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ decision, analyst }),
      }),
  };
}
