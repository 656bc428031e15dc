/**
 * Shared by the ingest, CLI and review-page tests: alert documents of every format for a fresh host
 * (so tests never share an incident), the ingest app on a real port against the real dev server,
 * and a worker running the stand-in playbook (fixtures/review-playbook.ts).
 */
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { buildIngestApp, type IngestAppOptions } from '../../client/ingest/app';
import { createLogger } from '../../client/ingest/logger';
import { incidentWorkflowId } from '../../common/incident';
import { SA, WORKFLOW_TYPES } from '../../common/names';
import { normalizeAlert } from '../../common/normalize';
import { PlaybookPolicySchema } from '../../common/playbook';
import { testClient, withWorker } from '../support/temporal';
import { waitFor as pollUntil } from '../support/playbook-harness';
import { quietLogger } from '../../worker/quiet-logger';

export const FORMATS = ['canonical', 'elastic-alert', 'ecs-process-event', 'sysmon-1', 'security-4688'] as const;
export type FormatName = (typeof FORMATS)[number];

const FORMAT_DIR = join(__dirname, '..', 'fixtures', 'formats');

export function freshHostname(): string {
  return `h${randomUUID().replace(/-/g, '').slice(0, 12)}`;
}

/**
 * The format's sample document, moved to `hostname`. Apart from `ecs-process-event` (another host
 * and pair), the samples describe one incident: WINWORD.EXE 4312 → powershell.exe 6120.
 */
export function alertDocument(format: FormatName, hostname: string): Record<string, unknown> {
  const doc = JSON.parse(readFileSync(join(FORMAT_DIR, `${format}.json`), 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const fqdn = `${hostname}.contoso.local`;
  switch (format) {
    case 'canonical':
      doc.host.hostname = fqdn;
      doc.alertId = `canonical-${randomUUID()}`;
      break;
    case 'elastic-alert':
      doc.host.hostname = hostname;
      doc.host.name = fqdn;
      doc['kibana.alert.uuid'] = `elastic-${randomUUID()}`;
      break;
    case 'ecs-process-event':
      doc['host.hostname'] = hostname;
      doc['host.name'] = fqdn;
      break;
    case 'sysmon-1':
    case 'security-4688':
      doc.host.hostname = hostname;
      doc.host.name = fqdn;
      doc.winlog.computer_name = fqdn;
      break;
  }
  return doc;
}

export const TEST_POLICY = PlaybookPolicySchema.parse({ reviewTimeout: '1h' });

export interface TestIngest {
  url: string;
  token: string;
  linkSecret: string;
  taskQueue: string;
  app: FastifyInstance;
  /** Every log line the app wrote, parsed. */
  logs: Record<string, unknown>[];
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

export async function startTestIngest(
  client: Client,
  overrides: Partial<Omit<IngestAppOptions, 'client' | 'logger'>> = {},
  /** The port to listen on (0: a free one): a sign-in redirect URI must name it beforehand. */
  port = 0,
): Promise<TestIngest> {
  const token = `token-${randomUUID()}`;
  const linkSecret = `secret-${randomUUID()}`;
  const taskQueue = overrides.taskQueue ?? `ingest-test-${randomUUID()}`;
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      done();
    },
  });
  const app = await buildIngestApp({
    client,
    ingestToken: token,
    linkSecret,
    policy: TEST_POLICY,
    taskQueue,
    logger: createLogger('info', sink),
    ...overrides,
  });
  await app.listen({ host: '127.0.0.1', port });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const auth = { authorization: `Bearer ${token}` };
  return {
    url,
    token,
    linkSecret,
    taskQueue,
    app,
    logs,
    post: (path, body, headers = auth) =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    get: (path, headers = auth) => fetch(`${url}${path}`, { headers }),
    close: () => app.close(),
  };
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
function standInBundle(): Promise<WorkflowBundleWithSourceMap> {
  const quiet = quietLogger();
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('./fixtures/review-playbook'), logger: quiet });
  return bundle;
}

/** Runs `fn` while a worker serves the stand-in playbook on `taskQueue`. */
/**
 * Runs `fn` while the stand-in playbook polls `taskQueue`. Afterwards the incidents still running
 * there are terminated: nothing would answer their queries any more, and a pending review left
 * behind would slow every later `review list` in the suite (each of its status queries waits).
 */
export async function withStandInPlaybook<T>(
  taskQueue: string,
  fn: () => Promise<T>,
  options: { leaveRunning?: boolean } = {},
): Promise<T> {
  try {
    return await withWorker({ taskQueue, workflowBundle: await standInBundle() }, fn);
  } finally {
    if (!options.leaveRunning) await terminateRunningOn(taskQueue);
  }
}

export async function terminateRunningOn(taskQueue: string): Promise<void> {
  const client = await testClient();
  try {
    const query = `TaskQueue = "${taskQueue}" AND ExecutionStatus = "Running"`;
    for await (const execution of client.workflow.list({ query })) {
      await client.workflow
        .getHandle(execution.workflowId, execution.runId)
        .terminate('test finished: its worker has stopped')
        .catch((err: Error) => {
          if (err.name !== 'WorkflowNotFoundError') throw err; // finished meanwhile
        });
    }
  } finally {
    await client.connection.close();
  }
}

export async function workflowExists(client: Client, workflowId: string): Promise<boolean> {
  try {
    await client.workflow.getHandle(workflowId).describe();
    return true;
  } catch (err) {
    if ((err as Error).name === 'WorkflowNotFoundError') return false;
    throw err;
  }
}

/** The suite's one polling helper, with this folder's shorter default wait. */
export function waitFor<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  return pollUntil(probe, accept, timeoutMs);
}

/** A response's JSON body, loosely typed for assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function jsonOf(response: Response): Promise<any> {
  return response.json();
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

const REPO = join(__dirname, '..', '..');

/**
 * `node bin/spawnguard.js …` as a user runs it, against the test server. Asynchronous on purpose:
 * a worker in this process must keep answering while the CLI waits on an update.
 */
export function runCli(
  args: string[],
  options: { input?: string; env?: Record<string, string> } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO, 'bin', 'spawnguard.js'), ...args], {
      cwd: REPO,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS ?? '',
        TEMPORAL_NAMESPACE: process.env.TEMPORAL_NAMESPACE ?? 'default',
        ...options.env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** Starts the stand-in playbook for a fresh incident directly (not through ingest); returns its workflow id. */
export async function startStandInIncident(
  client: Client,
  taskQueue: string,
  document: Record<string, unknown> = alertDocument('canonical', freshHostname()),
): Promise<string> {
  const alert = normalizeAlert(document);
  const handle = await client.workflow.start(WORKFLOW_TYPES.playbook, {
    taskQueue,
    workflowId: incidentWorkflowId(alert),
    args: [{ alert, policy: TEST_POLICY, receivedAt: new Date().toISOString() }],
    typedSearchAttributes: [
      { key: SA.AlertId, value: alert.alertId },
      { key: SA.Hostname, value: alert.host.hostname },
      { key: SA.ProcessName, value: alert.child.name },
      { key: SA.ParentProcessName, value: alert.parent.name },
    ],
  });
  return handle.workflowId;
}
