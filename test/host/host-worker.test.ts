/**
 * The host activities and the host worker on the real dev server: requests, typed failures,
 * retries, heartbeats and cancellation travel through Temporal exactly as the playbook sees them;
 * the PowerShell side is the stand-in (no PowerShell runs here).
 */
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHostActivities } from '../../activities/host/activities';
import { writeManifest } from '../../activities/host/script-manifest';
import { HOST_FAILURE_TYPES } from '../../common/host-contract';
import { hostTaskQueue } from '../../common/names';
import { RETRYABLE_SCRIPT_FAILURES } from '../../activities/host/runner';
import { runHostWorker } from '../../worker/host';
import type { HostCall } from './fixtures/host-workflows';
import { createFakeHost, eventually, isAlive, type FakeHost } from './standin';
import { testAddress, testClient, uniqueTaskQueue, withWorker } from '../support/temporal';
import { quietLogger } from '../../worker/quiet-logger';

let client: Client;
let workflowBundle: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  client = await testClient();
  workflowBundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('./fixtures/host-workflows'),
    logger: quietLogger(),
  });
});

let host: FakeHost;
beforeEach(async () => {
  host = await createFakeHost('ok');
});
afterEach(() => host.remove());

const workflowOptions = (taskQueue: string, call: HostCall) => ({
  taskQueue,
  workflowId: uniqueTaskQueue('host-call'),
  args: [call] as [HostCall],
});

/** The ApplicationFailure under WorkflowFailedError → ActivityFailure, as the playbook receives it. */
async function activityFailureOf(run: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await run.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(WorkflowFailedError);
  const activityFailure = (error as WorkflowFailedError).cause;
  expect(activityFailure).toBeInstanceOf(ActivityFailure);
  expect(activityFailure?.cause).toBeInstanceOf(ApplicationFailure);
  return activityFailure!.cause as ApplicationFailure;
}

describe('host activities on a real worker', () => {
  /** One worker polling `taskQueue` with the workflow fixture and the host activities over the stand-in. */
  const withHostWorker = <T>(taskQueue: string, fn: () => Promise<T>) =>
    withWorker(
      {
        taskQueue,
        workflowBundle,
        activities: createHostActivities({
          scriptsDirectory: host.scriptsDirectory,
          manifest: host.manifest,
          powershellPath: host.powershellPath,
          heartbeatIntervalMs: 200,
        }),
      },
      fn,
    );

  it('runs a script and returns its validated result through Temporal', async () => {
    const taskQueue = uniqueTaskQueue('host');
    const request = { incidentId: 'incident-1', targets: [{ pid: 4242, imagePath: 'C:\\Users\\Public\\evil.exe' }] };
    const result = await withHostWorker(taskQueue, () =>
      client.workflow.execute(
        'callHostActivity',
        workflowOptions(taskQueue, { activity: 'stopProcess', request, taskQueue }),
      ),
    );
    expect(result).toMatchObject({ script: 'StopProcess.ps1', ok: true, results: [], errors: [] });
    expect(host.records().map((r) => r.request)).toEqual([{ ...request, includeDescendants: true }]);
  });

  it('refuses a protected target with a non-retryable ProtectedTarget failure, never spawning PowerShell', async () => {
    const taskQueue = uniqueTaskQueue('host');
    const call: HostCall = {
      activity: 'stopProcess',
      request: {
        incidentId: 'incident-1',
        targets: [{ pid: 812, name: 'lsass.exe', imagePath: 'C:\\Windows\\System32\\lsass.exe' }],
      },
      taskQueue,
      maximumAttempts: 3,
    };
    const failure = await withHostWorker(taskQueue, () =>
      activityFailureOf(client.workflow.execute('callHostActivity', workflowOptions(taskQueue, call))),
    );
    expect(failure.type).toBe(HOST_FAILURE_TYPES.protectedTarget);
    expect(failure.nonRetryable).toBe(true);
    expect(host.argvFileExists()).toBe(false);
  });

  it('does not retry AccessDenied, and retries a failed script', async () => {
    const taskQueue = uniqueTaskQueue('host');
    const request = { incidentId: 'incident-1', targets: [{ pid: 4242, imagePath: 'C:\\Users\\Public\\evil.exe' }] };
    await host.setMode('StopProcess', 'exit4');
    const denied = await withHostWorker(taskQueue, () =>
      activityFailureOf(
        client.workflow.execute(
          'callHostActivity',
          workflowOptions(taskQueue, { activity: 'stopProcess', request, taskQueue, maximumAttempts: 3 }),
        ),
      ),
    );
    expect(denied.type).toBe(HOST_FAILURE_TYPES.accessDenied);
    expect(host.records()).toHaveLength(1);

    await host.setMode('StopProcess', 'exit1');
    const failed = await withHostWorker(taskQueue, () =>
      activityFailureOf(
        client.workflow.execute(
          'callHostActivity',
          workflowOptions(taskQueue, { activity: 'stopProcess', request, taskQueue, maximumAttempts: 2 }),
        ),
      ),
    );
    expect(failed.type).toBe(RETRYABLE_SCRIPT_FAILURES.failed);
    expect(host.records()).toHaveLength(1 + 2);
  });

  it('heartbeats while a script runs longer than the heartbeat timeout', async () => {
    const taskQueue = uniqueTaskQueue('host');
    await host.setMode('FetchPersistenceEntries', 'slow');
    const call: HostCall = { activity: 'fetchPersistenceEntries', request: {}, taskQueue, heartbeatTimeout: '2s' };
    const result = await withHostWorker(taskQueue, () =>
      client.workflow.execute('callHostActivity', workflowOptions(taskQueue, call)),
    );
    expect(result).toMatchObject({ script: 'FetchPersistenceEntries.ps1', ok: true });
    expect(host.records()).toHaveLength(1);
  });

  it('kills the script’s process tree when the incident cancels the activity', async () => {
    const taskQueue = uniqueTaskQueue('host');
    await host.setMode('FetchPersistenceEntries', 'hang');
    const call: HostCall = { activity: 'fetchPersistenceEntries', request: {}, taskQueue, heartbeatTimeout: '2s' };
    const error = await withHostWorker(taskQueue, async () => {
      const handle = await client.workflow.start('callHostActivity', workflowOptions(taskQueue, call));
      await eventually(() => host.hangPids() !== undefined);
      const pids = host.hangPids()!;
      expect(isAlive(pids.pid) && isAlive(pids.grandchildPid)).toBe(true);
      await handle.cancel();
      const outcome = await handle.result().then(
        () => undefined,
        (err: unknown) => err,
      );
      // WAIT_CANCELLATION_COMPLETED: by the time the workflow ends, the activity has stopped its script.
      await eventually(() => !isAlive(pids.pid) && !isAlive(pids.grandchildPid));
      return outcome;
    });
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
  });
});

describe('spawnguard worker host', () => {
  const env = () => ({ TEMPORAL_ADDRESS: testAddress(), TEMPORAL_NAMESPACE: 'default' });

  /** Runs the host worker until `fn` finishes, then stops it the way Ctrl+C does (through its signal). */
  async function whileHostWorkerRuns<T>(
    options: Omit<Parameters<typeof runHostWorker>[0] & object, 'signal' | 'onPolling'>,
    fn: (taskQueue: string) => Promise<T>,
  ): Promise<T> {
    const controller = new AbortController();
    let polling: (queue: string) => void = () => {};
    const started = new Promise<string>((resolve) => (polling = resolve));
    const running = runHostWorker({ ...options, signal: controller.signal, onPolling: polling, log: () => {} });
    const taskQueue = await Promise.race([started, running.then(() => Promise.reject(new Error('worker stopped')))]);
    try {
      return await fn(taskQueue);
    } finally {
      controller.abort();
      await running;
    }
  }

  /** A workflow worker on its own queue that calls the host queue, as the central worker does. */
  const callHost = (call: HostCall) => {
    const workflowQueue = uniqueTaskQueue('central');
    return withWorker({ taskQueue: workflowQueue, workflowBundle }, () =>
      client.workflow.execute('callHostActivity', workflowOptions(workflowQueue, call)),
    );
  };

  it('refuses to start on a machine that is not Windows unless lab mode is explicit', async () => {
    await expect(runHostWorker({ platform: 'linux', env: env(), log: () => {} })).rejects.toThrow(
      /refuses to start on linux.*--lab/,
    );
  });

  it('serves the lab host on spawnguard-host-<hostname> in lab mode', async () => {
    const hostname = `LAB-${Date.now()}.contoso.local`;
    const result = await whileHostWorkerRuns({ platform: 'linux', lab: true, hostname, env: env() }, (taskQueue) => {
      expect(taskQueue).toBe(hostTaskQueue(hostname));
      return callHost({ activity: 'getProcessTree', request: { processIds: [4242] }, taskQueue });
    });
    expect(result).toMatchObject({ script: 'lab:GetProcessTree.ps1', results: [{ pid: 4242, found: false }] });
    expect(host.argvFileExists()).toBe(false);
  });

  it('on Windows: checks the manifest, protects its parent chain and runs the scripts with the configured PowerShell', async () => {
    await writeManifest(host.scriptsDirectory);
    const hostname = `WIN-${Date.now()}`;
    const request = { incidentId: 'incident-1', targets: [{ pid: 4242, imagePath: 'C:\\Users\\Public\\evil.exe' }] };
    const result = await whileHostWorkerRuns(
      {
        platform: 'win32',
        hostname,
        scriptsDirectory: host.scriptsDirectory,
        env: { ...env(), SPAWNGUARD_POWERSHELL_PATH: host.powershellPath },
      },
      (taskQueue) => callHost({ activity: 'stopProcess', request, taskQueue }),
    );
    expect(result).toMatchObject({ script: 'StopProcess.ps1', ok: true });
    // At start-up it asked GetProcessTree for its own parent chain; then it ran the request.
    expect(host.records().map((r) => r.request)).toEqual([
      { processIds: [process.pid] },
      { ...request, includeDescendants: true },
    ]);
  });

  it('refuses to start when a script does not match the manifest, or there is no manifest', async () => {
    const options = { platform: 'win32' as const, scriptsDirectory: host.scriptsDirectory, env: env(), log: () => {} };
    await expect(runHostWorker(options)).rejects.toThrow(/manifest\.json not found/);

    await writeManifest(host.scriptsDirectory);
    appendFileSync(join(host.scriptsDirectory, 'TerminateSession.ps1'), '# edited on the host\n');
    await expect(runHostWorker(options)).rejects.toThrow(/TerminateSession\.ps1: SHA-256 .* differs/);
    expect(host.argvFileExists()).toBe(false);
  });
});
