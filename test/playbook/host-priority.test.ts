/**
 * Containment before enumeration (issue 15 item 3), on the real dev server: a host's action queue
 * holds a backlog of minutes-long persistence listings from earlier incidents when two new incidents
 * arrive. Their investigation and containment are dispatched ahead of that backlog (task priority),
 * not after it.
 */
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import { countRunning, createHostControlActivities } from '../../activities/host/control';
import type { IncidentStatus } from '../../common/incident-status';
import { hostControlTaskQueue, hostTaskQueue } from '../../common/names';
import { createHarness, statusOf, waitFor, type Harness } from '../support/playbook-harness';
import { maliciousScenario } from '../support/scenarios';
import { testAddress, testClient } from '../support/temporal';
import type { HostActivityName } from '../support/test-host';

let client: Client;
beforeAll(async () => {
  client = await testClient();
});

const CONTAINMENT: HostActivityName[] = ['stopAndQuarantineProcess', 'stopProcess', 'terminateSession'];

interface Dispatch {
  activity: HostActivityName;
  incidentId: string;
}

function incidentOf(request: unknown): string {
  return (request as { incidentId?: string }).incidentId ?? '';
}

async function actionWorker(h: Harness, connection: NativeConnection, slots: number) {
  const worker = await Worker.create({
    connection,
    taskQueue: hostTaskQueue(h.hostname),
    activities: h.host.activities,
    maxConcurrentActivityTaskExecutions: slots,
  });
  const running = worker.run();
  return {
    stop: async () => {
      worker.shutdown();
      await running;
    },
  };
}

it('a new incident’s containment is dispatched ahead of a backlog of persistence listings', async () => {
  const h = await createHarness(client);
  const alert = maliciousScenario(h);
  const policy = h.policy({ hostUnreachableTimeout: '60s', hostLivenessTimeout: '5s' });
  const connection = await NativeConnection.connect({ address: testAddress() });
  // The control queue answers throughout: the host is alive, only its action queue is backed up.
  const control = await Worker.create({
    connection,
    taskQueue: hostControlTaskQueue(h.hostname),
    activities: createHostControlActivities({ hostname: h.hostname }, true, countRunning(h.host.activities).load),
  });
  const controlRunning = control.run();

  let phase: 'backlog' | 'drain' = 'backlog';
  let failedListings = 0;
  const dispatched: Dispatch[] = [];
  h.host.beforeActivity = async (activity) => {
    const call = h.host.calls[h.host.calls.length - 1];
    if (phase === 'drain') dispatched.push({ activity, incidentId: incidentOf(call?.request) });
    if (activity !== 'fetchPersistenceEntries') return;
    if (phase === 'backlog') {
      // The earlier incidents' listings fail once, so their retries wait in the queue.
      failedListings += 1;
      throw ApplicationFailure.retryable('host busy (test)', 'HostBusy');
    }
    // Long enough that the backlog outlasts a new incident's investigation (file facts, process tree,
    // related incidents, the decision) on a 2-core CI machine: only priority puts its containment first.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
  };

  try {
    const results = await h.run(
      async () => {
        // Four earlier incidents reach their persistence step; their retries make the backlog.
        const early = await Promise.all(
          [0, 1, 2, 3].map((i) => h.start({ ...alert, alertId: `${alert.alertId}-early-${i}` }, policy)),
        );
        let actions = await actionWorker(h, connection, 4);
        await waitFor(
          async () => failedListings,
          (n) => n >= early.length,
          60_000,
        );
        await actions.stop();
        // The retries are queued 2 s after the failures (the host activities' initial interval).
        await new Promise((resolve) => setTimeout(resolve, 3_000));

        // Two new incidents: their host worker answers its ping, their first host task queues up.
        const late = await Promise.all(
          [0, 1].map((i) => h.start({ ...alert, alertId: `${alert.alertId}-late-${i}` }, policy)),
        );
        await Promise.all(
          late.map((handle) =>
            waitFor(
              () => statusOf(handle),
              (s) => s.hostWorker?.answered === true,
              30_000,
            ),
          ),
        );
        await new Promise((resolve) => setTimeout(resolve, 1_000));

        // One slot from now on: the order of dispatch is the order the queue gives.
        phase = 'drain';
        actions = await actionWorker(h, connection, 1);
        try {
          return {
            early: (await Promise.all(early.map((handle) => handle.result()))) as IncidentStatus[],
            late: (await Promise.all(late.map((handle) => handle.result()))) as IncidentStatus[],
          };
        } finally {
          await actions.stop();
        }
      },
      { hostWorker: false },
    );

    expect([...results.early, ...results.late].map((r) => r.phase)).toEqual(Array(6).fill('closed'));
    const earlyIds = new Set(results.early.map((r) => r.workflowId));
    const lateIds = results.late.map((r) => r.workflowId);
    const backlog = dispatched
      .map((d, index) => ({ ...d, index }))
      .filter((d) => d.activity === 'fetchPersistenceEntries' && earlyIds.has(d.incidentId));
    expect(backlog).toHaveLength(4);
    const lastBacklogged = Math.max(...backlog.map((d) => d.index));
    for (const id of lateIds) {
      const firstContainment = dispatched.findIndex((d) => d.incidentId === id && CONTAINMENT.includes(d.activity));
      expect({ id, contained: firstContainment >= 0 }).toEqual({ id, contained: true });
      // Without priority the queue is first in, first out: all four listings would run first.
      expect({ id, beforeTheBacklogDrained: firstContainment < lastBacklogged }).toEqual({
        id,
        beforeTheBacklogDrained: true,
      });
    }
  } finally {
    control.shutdown();
    await controlRunning;
    await connection.close();
  }
}, 180_000);
