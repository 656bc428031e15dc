/**
 * Runs playbook incidents on the real dev server with a real central worker (the real workflows,
 * test central activities) and a real host worker (the test host), each test on its own queues.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { NativeConnection, Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import type { CanonicalAlert } from '../../common/alert';
import { createDecisionActivities } from '../../activities/decision';
import { createIncidentReader, createRelatedActivities } from '../../activities/incidents';
import type { CentralActivities, IncidentStatus, ReputationReport } from '../../common/incident-status';
import { hostControlTaskQueue, hostTaskQueue, type HostQueueNaming } from '../../common/names';
import { countRunning, createHostControlActivities, refuseOtherHosts } from '../../activities/host/control';
import { PlaybookPolicySchema, type PlaybookPolicy } from '../../common/playbook';
import type { RestoreStatus } from '../../common/restore';
import { createTestHost, type TestHost } from './test-host';
import { testAddress } from './temporal';
import { quietLogger } from '../../worker/quiet-logger';

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quietLogger() });
  return bundle;
}

export interface CentralState {
  reputations: Map<string, ReputationReport>;
  reports: IncidentStatus[];
  reviewRequests: { status: IncidentStatus; reminder: boolean }[];
  /** Notices of a malicious alert on a host whose worker did not answer. */
  hostMissingNotices: IncidentStatus[];
  restoreReports: RestoreStatus[];
  /** Related incidents found by user too (a test whose users are its own); default: by host only. */
  relatedByUser?: boolean;
}

export function createCentralState(): CentralState {
  return { reputations: new Map(), reports: [], reviewRequests: [], hostMissingNotices: [], restoreReports: [] };
}

export function createTestCentralActivities(state: CentralState): CentralActivities {
  return {
    // The real engine: the playbook records its decision through it.
    ...createDecisionActivities(),
    // The real visibility query. Every test's incidents share the dev server and their users' names
    // (CONTOSO\\bob): only this test's host counts, unless a test gives its incidents users of their own.
    async findRelatedIncidents(request) {
      const found = await createRelatedActivities().findRelatedIncidents(request);
      return state.relatedByUser ? found : found.filter((r) => r.matchedBy.includes('host'));
    },
    async lookupReputation({ sha256 }) {
      return (
        state.reputations.get(sha256) ?? {
          sha256,
          results: [],
          consulted: [],
          notConsulted: [{ source: 'virustotal', reason: 'no API key configured' }],
        }
      );
    },
    async sendIncidentReport({ status }) {
      state.reports.push(status);
      return { messageId: `report-${state.reports.length}` };
    },
    async sendReviewRequest({ status, reminder }) {
      state.reviewRequests.push({ status, reminder: Boolean(reminder) });
      return { messageId: `review-${state.reviewRequests.length}` };
    },
    async sendHostMissingNotice({ status }) {
      state.hostMissingNotices.push(status);
      return { messageId: `host-missing-${state.hostMissingNotices.length}` };
    },
    ...createIncidentReader(),
    async sendRestoreReport({ restore }) {
      state.restoreReports.push(restore);
      return { messageId: `restore-${state.restoreReports.length}` };
    },
  };
}

/**
 * The recording central activities, with the incident report held back until `release()`: the
 * incident stays open (notifying) for as long as a test needs it to.
 */
export function withHeldReport(state: CentralState): { activities: CentralActivities; release(): void } {
  const today = createTestCentralActivities(state);
  let release = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  return {
    activities: {
      ...today,
      sendIncidentReport: async (request) => {
        await gate;
        return today.sendIncidentReport(request);
      },
    },
    release: () => release(),
  };
}

export function vtReport(sha256: string, malicious: number, total = 72): ReputationReport {
  return {
    sha256,
    results: [
      {
        source: 'virustotal',
        status: 'known',
        malicious,
        suspicious: 0,
        total,
        label: malicious ? 'trojan.generic' : null,
      },
    ],
    consulted: ['virustotal'],
    notConsulted: [],
  };
}

export interface Harness {
  client: Client;
  taskQueue: string;
  central: CentralState;
  host: TestHost;
  hostname: string;
  policy(overrides?: Partial<PlaybookPolicy>): PlaybookPolicy;
  start(alert: CanonicalAlert, policy: PlaybookPolicy): Promise<WorkflowHandle>;
  /**
   * Runs fn while both workers poll; `hostWorker: false` leaves the host without a worker. A run can
   * use other workflow code and central activities (a later release of the playbook).
   */
  run<T>(fn: () => Promise<T>, options?: RunOptions): Promise<T>;
  startHostWorker(options?: { slots?: number }): Promise<{ worker: { shutdown(): void }; running: Promise<void> }>;
}

export interface RunOptions {
  hostWorker?: boolean;
  /** The host worker's action slots (default: the SDK's). */
  hostSlots?: number;
  workflowBundle?: WorkflowBundleWithSourceMap;
  centralActivities?: CentralActivities;
}

export interface HarnessOptions {
  hostname?: string;
  /** The host worker's fully qualified name (it answers pings with it and refuses other hosts' requests). */
  hostFqdn?: string;
  /** How the host worker names its queues (default: by short name, DESIGN.md §3). */
  hostQueues?: HostQueueNaming;
  /** The Temporal server the workers poll (default: the one the global setup started). */
  address?: string;
  /** Central activities instead of the recording test ones (e.g. the real ones against fake APIs). */
  centralActivities?: CentralActivities;
  /** Whether the host worker says it serves a simulated (lab) host when pinged (default true). */
  hostLab?: boolean;
}

export async function createHarness(client: Client, options: HarnessOptions = {}): Promise<Harness> {
  const hostname = options.hostname ?? `host-${randomUUID().slice(0, 8)}`;
  const taskQueue = `central-${randomUUID()}`;
  const central = createCentralState();
  const host = createTestHost(hostname);
  const connection = await NativeConnection.connect({ address: options.address ?? testAddress() });
  // The host worker as the product runs it: its action queue (slots as configured) and its control
  // queue answering pings.
  const identity = { hostname, ...(options.hostFqdn ? { fqdn: options.hostFqdn } : {}) };
  const queueHost = options.hostQueues?.names === 'fqdn' && options.hostFqdn ? options.hostFqdn : hostname;
  const startHostWorker = async (hostOptions: { slots?: number } = {}) => {
    const counted = countRunning(host.activities);
    const actions = await Worker.create({
      connection,
      taskQueue: hostTaskQueue(queueHost, options.hostQueues),
      activities: refuseOtherHosts(counted.activities, identity),
      ...(hostOptions.slots ? { maxConcurrentActivityTaskExecutions: hostOptions.slots } : {}),
    });
    const control = await Worker.create({
      connection,
      taskQueue: hostControlTaskQueue(queueHost, options.hostQueues),
      activities: createHostControlActivities(identity, options.hostLab ?? true, counted.load),
    });
    const worker = {
      shutdown: () => {
        if (actions.getState() === 'RUNNING') actions.shutdown();
        if (control.getState() === 'RUNNING') control.shutdown();
      },
    };
    return { worker, running: Promise.all([actions.run(), control.run()]).then(() => undefined) };
  };
  return {
    client,
    taskQueue,
    central,
    host,
    hostname,
    policy: (overrides = {}) =>
      // No analyst answers proposed persistence removals here unless a test does: they expire at once.
      PlaybookPolicySchema.parse({
        hostUnreachableTimeout: '20s',
        reviewTimeout: '1h',
        persistenceReviewTimeout: '1s',
        ...overrides,
      }),
    start: (alert, policy) =>
      client.workflow.start('suspiciousParentProcessPlaybook', {
        taskQueue,
        workflowId: `test-${alert.alertId}-${randomUUID().slice(0, 8)}`,
        args: [{ alert, policy, receivedAt: new Date().toISOString() }],
      }),
    startHostWorker,
    async run(fn, runOptions = {}) {
      const centralWorker = await Worker.create({
        connection,
        taskQueue,
        workflowBundle: runOptions.workflowBundle ?? (await workflowBundle()),
        activities: runOptions.centralActivities ?? options.centralActivities ?? createTestCentralActivities(central),
      });
      const hostWorker =
        runOptions.hostWorker === false
          ? undefined
          : await startHostWorker(runOptions.hostSlots ? { slots: runOptions.hostSlots } : {});
      try {
        return await centralWorker.runUntil(fn());
      } finally {
        if (hostWorker) {
          hostWorker.worker.shutdown();
          await hostWorker.running;
        }
      }
    },
  };
}

export async function statusOf(handle: WorkflowHandle): Promise<IncidentStatus> {
  return handle.query<IncidentStatus>('status');
}

/**
 * Polls until `accept` holds. A probe that fails (a status query the server could not deliver while
 * the worker was busy with a storm of signals) counts as "not yet"; at the deadline the last value or
 * error is reported.
 */
export async function waitFor<T>(
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: { value: T } | { error: unknown } | undefined;
  for (;;) {
    try {
      const value = await probe();
      if (accept(value)) return value;
      last = { value };
    } catch (error) {
      last = { error };
    }
    if (Date.now() > deadline) {
      const seen =
        last && 'value' in last
          ? `last value: ${JSON.stringify(last.value).slice(0, 2000)}`
          : `last error: ${String(last?.error)}`;
      throw new Error(`condition not met within ${timeoutMs} ms; ${seen}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The incident's result, with the host worker started now (it was absent until this point). */
export async function resultOnceHostWorkerStarts(h: Harness, handle: WorkflowHandle): Promise<IncidentStatus> {
  const host = await h.startHostWorker();
  try {
    return (await handle.result()) as IncidentStatus;
  } finally {
    host.worker.shutdown();
    await host.running;
  }
}
