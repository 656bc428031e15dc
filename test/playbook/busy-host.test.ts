/**
 * Busy is not unreachable (issue 15 item 3), on the real dev server: fifteen incidents on one host
 * whose worker has two slots and slow scripts — every action waits in the queue longer than the
 * unreachable timeout — all complete, none closes unreachable, because the worker answers pings on
 * its control queue; a host with no worker shows in the status within seconds, and the incident
 * waits for one.
 */
import type { Client } from '@temporalio/client';
import type { IncidentStatus } from '../../common/incident-status';
import { createHarness, resultOnceHostWorkerStarts, statusOf, waitFor } from '../support/playbook-harness';
import { maliciousScenario } from '../support/scenarios';
import { testClient } from '../support/temporal';

let client: Client;
beforeAll(async () => {
  client = await testClient();
});

it('15 incidents on one busy host with slow scripts: none closes unreachable while its worker is alive', async () => {
  const h = await createHarness(client);
  const alert = maliciousScenario(h);
  // Every script takes 600 ms and the worker runs two at a time: the queue backs up far beyond 3 s.
  h.host.beforeActivity = () => new Promise((resolve) => setTimeout(resolve, 600));
  const policy = h.policy({ hostUnreachableTimeout: '3s', hostLivenessTimeout: '2s' });
  const results: IncidentStatus[] = await h.run(
    async () => {
      const handles = await Promise.all(
        Array.from({ length: 15 }, (_, i) => h.start({ ...alert, alertId: `${alert.alertId}-${i}` }, policy)),
      );
      return Promise.all(handles.map(async (handle) => (await handle.result()) as IncidentStatus));
    },
    { hostSlots: 2 },
  );
  expect(results.map((r) => r.outcome).filter((o) => o === 'host-unreachable')).toEqual([]);
  expect(results.every((r) => r.phase === 'closed' && r.enrichment?.hostReachable === true)).toBe(true);
  expect(results.every((r) => r.hostWorker?.answered === true)).toBe(true);
  // The host really was busy: actions waited past the unreachable timeout and were queued again.
  const histories = await Promise.all(results.map((r) => client.workflow.getHandle(r.workflowId).fetchHistory()));
  const timedOutToStart = histories
    .flatMap((history) => history.events ?? [])
    .filter((e) => e.activityTaskTimedOutEventAttributes);
  expect(timedOutToStart.length).toBeGreaterThan(0);
}, 300_000);

it('a host with no worker shows in the status within seconds; the incident waits, then goes on when one starts', async () => {
  const h = await createHarness(client);
  const alert = maliciousScenario(h);
  const result: IncidentStatus = await h.run(
    async () => {
      const startedAt = Date.now();
      const handle = await h.start(alert, h.policy({ hostUnreachableTimeout: '60s', hostLivenessTimeout: '2s' }));
      // First "waiting for the host worker … to answer" (test/playbook/host-worker-status.test.ts),
      // then, once the ping went unanswered, that no worker answered.
      const absent = await waitFor(
        () => statusOf(handle),
        (s) => s.hostWorker?.answered === false && s.hostWorker.message.startsWith('no host worker'),
        15_000,
      );
      expect(Date.now() - startedAt).toBeLessThan(10_000);
      expect(absent.phase).toBe('investigating');
      expect(absent.hostWorker?.message).toMatch(
        new RegExp(
          `no host worker for ${h.hostname} answered on spawnguard-host-${h.hostname}-control within 2s; waiting for one until`,
        ),
      );
      return resultOnceHostWorkerStarts(h, handle);
    },
    { hostWorker: false },
  );
  expect(result.hostWorker?.answered).toBe(true);
  expect(result.outcome).toBe('remediated');
}, 120_000);
