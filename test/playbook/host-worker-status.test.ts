/**
 * What the status says about the host worker (issue 16 item 2): "waiting for the host worker" from
 * the first seconds of an incident whose host has no worker, and LAB only when the host worker that
 * acts serves a simulated host — whatever the ingest service's setting says.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import { formatStatus } from '../../client/commands/status';
import { actionLine } from '../../activities/notification/sections';
import type { IncidentStatus } from '../../common/incident-status';
import { SA } from '../../common/names';
import { createHarness, resultOnceHostWorkerStarts, statusOf, waitFor } from '../support/playbook-harness';
import { maliciousScenario, suspiciousScenario } from '../support/scenarios';
import { testClient } from '../support/temporal';

jest.setTimeout(120_000);

it('a host without worker: the status says it waits for the host worker within seconds, and the closed incident is not LAB', async () => {
  const client = await testClient();
  const h = await createHarness(client);
  // The ingest service runs with SPAWNGUARD_LAB (policy.lab), but no host worker will act.
  const policy = h.policy({ lab: true, hostUnreachableTimeout: '8s', hostLivenessTimeout: '4s' });
  const result = await h.run(
    async () => {
      const handle = await h.start(maliciousScenario(h), policy);
      const started = Date.now();
      const waiting = await waitFor(
        () => statusOf(handle),
        (s) => /^waiting for the host worker of /.test(s.hostWorker?.message ?? ''),
        5_000,
      );
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(formatStatus(waiting)).toMatch(
        new RegExp(`^Phase +investigating — waiting for the host worker of ${h.hostname}$`, 'm'),
      );
      return (await handle.result()) as IncidentStatus;
    },
    { hostWorker: false },
  );
  expect(result.outcome).toBe('host-unreachable');
  expect(result.lab).toBe(false);
  expect(result.actions.filter((a) => a.status === 'done')).toEqual([]);
  await client.connection.close();
});

it('LAB follows the host worker that acted: a lab host worker marks the incident LAB, a real one does not', async () => {
  const client = await testClient();
  for (const { hostLab, policyLab } of [
    { hostLab: true, policyLab: false },
    { hostLab: false, policyLab: true },
  ]) {
    const h = await createHarness(client, { hostLab });
    const result = await h.run(async () => {
      const handle = await h.start(maliciousScenario(h), h.policy({ lab: policyLab }));
      return (await handle.result()) as IncidentStatus;
    });
    expect({ hostLab, outcome: result.outcome, lab: result.lab }).toEqual({
      hostLab,
      outcome: 'remediated',
      lab: hostLab,
    });
  }
  await client.connection.close();
});

it('every target already gone when remediation runs: the incident says nothing was left to do, not remediated', async () => {
  const client = await testClient();
  const h = await createHarness(client);
  const alert = maliciousScenario(h);
  // The dropper is signed by a publisher the SOC trusts: never quarantined, so the plan only stops
  // processes and logs the user off (and lists persistence).
  const dropper = h.host.state.files.find((f) => f.path === alert.child.executable)!;
  Object.assign(dropper, { signatureStatus: 'valid', signer: 'Contoso Build Signing' });
  // Decided on the host's facts; then, before the first action, the processes exit and the session closes.
  let cleared = false;
  h.host.beforeActivity = async (activity) => {
    if (cleared || (activity !== 'stopProcess' && activity !== 'terminateSession')) return;
    cleared = true;
    h.host.state.processes.length = 0;
    h.host.state.sessions.length = 0;
  };
  const policy = h.policy();
  const result = await h.run(async () => {
    const handle = await h.start(alert, {
      ...policy,
      decision: { ...policy.decision, trustedPublishers: ['Contoso Build Signing'] },
    });
    return (await handle.result()) as IncidentStatus;
  });
  expect(cleared).toBe(true);
  expect(result.decision?.verdict).toBe('malicious');
  const containment = result.actions.filter((a) => a.status !== 'skipped' && a.action !== 'fetch-persistence');
  expect(containment.length).toBeGreaterThan(0);
  expect(containment.map((a) => a.status)).toEqual(containment.map(() => 'already-done'));
  expect(result.outcome).toBe('nothing-left-to-do');
  expect(h.central.reports.at(-1)?.outcome).toBe('nothing-left-to-do');
  // Searchable in the Temporal UI by how it closed.
  const description = await client.workflow.getHandle(result.workflowId).describe();
  expect(description.typedSearchAttributes.get(SA.Outcome)).toBe('nothing-left-to-do');
  await client.connection.close();
});

it('names the descendants a stop took with it, in the status and the report', async () => {
  const client = await testClient();
  const h = await createHarness(client);
  const result = await h.run(async () => {
    const handle = await h.start(maliciousScenario(h), h.policy());
    return (await handle.result()) as IncidentStatus;
  });
  expect(result.outcome).toBe('remediated');
  // invoice.exe (6120) had a console host (6200): it ended with it.
  const stopped = result.actions.filter((a) => (a.descendantPids ?? []).length > 0);
  expect(stopped.map((a) => ({ action: a.action, descendants: a.descendantPids }))).toEqual([
    { action: expect.stringMatching(/-child$/), descendants: [6200] },
  ]);
  expect(formatStatus(result)).toMatch(/descendants stopped: 6200/);
  expect(actionLine(stopped[0]!)).toMatch(/; its descendants stopped with it: PID 6200/);
  // Each validation step says in the Temporal UI what it checks.
  const history = await client.workflow.getHandle(result.workflowId).fetchHistory();
  const summaries = (history.events ?? [])
    .map((e) => e.userMetadata?.summary)
    .filter((p): p is NonNullable<typeof p> => Boolean(p))
    .map((p) => String(defaultPayloadConverter.fromPayload(p)));
  expect(summaries).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^Validate: PID [\d, ]*6120[\d, ]* no longer running$/),
      expect.stringMatching(/^Validate: C:\\Users\\.*invoice\.exe in quarantine, hash unchanged$/),
      expect.stringMatching(/^Validate: session 3 of CONTOSO\\bob logged off$/),
    ]),
  );
  await client.connection.close();
});

it('a malicious alert on a host whose worker does not answer is notified at once, and remediated once the worker comes', async () => {
  const client = await testClient();
  const h = await createHarness(client);
  const result = await h.run(
    async () => {
      const startedAt = Date.now();
      const handle = await h.start(
        maliciousScenario(h),
        h.policy({ hostLivenessTimeout: '2s', hostUnreachableTimeout: '60s' }),
      );
      // Within seconds of the first unanswered ping, not when the incident gives up on the host.
      const [notice] = await waitFor(
        async () => h.central.hostMissingNotices,
        (notices) => notices.length > 0,
        20_000,
      );
      expect(Date.now() - startedAt).toBeLessThan(20_000);
      expect(notice!.preliminaryDecision?.verdict).toBe('malicious');
      expect(notice!.decision).toBeNull();
      expect(notice!.actions).toEqual([]);
      expect(notice!.hostWorker?.message).toMatch(/^no host worker for .* answered/);
      const waiting = await statusOf(handle);
      expect(formatStatus(waiting)).toMatch(
        /^Verdict +not decided yet; from the alert and reputation alone \(host not answering\): malicious/m,
      );
      // The worker comes: the incident decides with the host's facts and remediates.
      return resultOnceHostWorkerStarts(h, handle);
    },
    { hostWorker: false },
  );
  expect(result.outcome).toBe('remediated');
  expect(result.enrichment?.hostReachable).toBe(true);
  expect(h.central.hostMissingNotices).toHaveLength(1);
  expect(h.central.reports).toHaveLength(1);
  await client.connection.close();
});

it('a suspicious alert on a host without worker gets a preliminary verdict but no notice', async () => {
  const client = await testClient();
  const h = await createHarness(client);
  const result = await h.run(
    async () => {
      const handle = await h.start(
        suspiciousScenario(h),
        h.policy({ hostLivenessTimeout: '2s', hostUnreachableTimeout: '6s' }),
      );
      return (await handle.result()) as IncidentStatus;
    },
    { hostWorker: false },
  );
  expect(result.preliminaryDecision?.verdict).toBe('suspicious');
  expect(h.central.hostMissingNotices).toEqual([]);
  await client.connection.close();
});
