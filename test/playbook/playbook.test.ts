/**
 * The playbook on the real dev server: each outcome asserted on the result, the status query and
 * the search attributes. Host and central activities are test implementations at the activity boundary.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { IncidentStatus } from '../../common/incident-status';
import { SA } from '../../common/names';
import { keepHistory } from '../support/histories';
import { createHarness, statusOf, waitFor, type Harness } from '../support/playbook-harness';
import { benignScenario, maliciousScenario, suspiciousScenario } from '../support/scenarios';
import { testClient } from '../support/temporal';

let client: Client;
beforeAll(async () => {
  client = await testClient();
});

const hostActions = (h: Harness) =>
  h.host.calls.filter((c) => ['stopProcess', 'stopAndQuarantineProcess', 'terminateSession'].includes(c.activity));

async function searchAttributes(handle: WorkflowHandle) {
  const sa = (await handle.describe()).typedSearchAttributes;
  return {
    verdict: sa.get(SA.Verdict),
    score: sa.get(SA.RiskScore),
    review: sa.get(SA.ReviewStatus),
    remediation: sa.get(SA.RemediationStatus),
    host: sa.get(SA.Hostname),
    process: sa.get(SA.ProcessName),
    parent: sa.get(SA.ParentProcessName),
  };
}

/** The validator's message for a rejected review update (the client wraps it in the failure's cause). */
async function updateRejection(handle: WorkflowHandle, update: unknown): Promise<string> {
  try {
    await handle.executeUpdate('review', { args: [update] });
  } catch (err) {
    expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
    return (err as WorkflowUpdateFailedError).cause?.message ?? '';
  }
  throw new Error('the update was accepted');
}

/** The status query and the search attributes of a closed incident agree with its result. */
async function expectSameStory(handle: WorkflowHandle, result: IncidentStatus, remediation: string, review: string) {
  const status = await statusOf(handle);
  expect({ outcome: status.outcome, phase: status.phase, verdict: status.decision?.verdict }).toEqual({
    outcome: result.outcome,
    phase: 'closed',
    verdict: result.decision?.verdict,
  });
  expect(await searchAttributes(handle)).toMatchObject({
    verdict: result.decision?.verdict,
    score: result.decision?.score,
    review,
    remediation,
  });
}

describe('suspiciousParentProcessPlaybook', () => {
  it('malicious: remediates on the host, validates every action and emails the report', async () => {
    const h = await createHarness(client);
    const alert = maliciousScenario(h);
    const result: IncidentStatus = await h.run(async () => {
      const handle = await h.start(alert, h.policy());
      const done = await handle.result();
      await keepHistory(handle, 'malicious');
      return done;
    });

    expect(result.outcome).toBe('remediated');
    expect(result.decision?.verdict).toBe('malicious');
    const actions = result.actions.filter((a) => a.status !== 'skipped');
    expect(actions.length).toBeGreaterThanOrEqual(3);
    expect(actions.every((a) => a.validated === true)).toBe(true);
    // The dropper and its descendants are gone, its file is in quarantine, bob's session is logged off.
    expect(h.host.state.processes.filter((p) => [6120, 6200].includes(p.pid)).every((p) => !p.running)).toBe(true);
    expect(h.host.hasFile('C:\\Users\\bob\\AppData\\Local\\Temp\\invoice.exe')).toBe(false);
    const quarantine = result.actions.find((a) => a.quarantine)?.quarantine;
    expect(quarantine?.sha256After).toBe(quarantine?.sha256Before);
    expect(h.host.state.sessions).toHaveLength(0);
    // Persistence is collected before bob is logged off: the logoff unloads his hive (his Run keys).
    const order = h.host.calls.map((c) => c.activity);
    expect(order.indexOf('fetchPersistenceEntries')).toBeGreaterThanOrEqual(0);
    expect(order.indexOf('fetchPersistenceEntries')).toBeLessThan(order.indexOf('terminateSession'));
    // Persistence that points at the dropper comes first and is flagged.
    expect(result.persistence[0]).toMatchObject({ name: 'Updater', referencesTarget: true });
    expect(result.persistence[1]).toMatchObject({ name: 'ScheduledDefrag', referencesTarget: false });
    // Word is Microsoft-signed: never quarantined.
    expect(
      h.host.calls.some(
        (c) => c.activity === 'stopAndQuarantineProcess' && JSON.stringify(c.request).includes('WINWORD'),
      ),
    ).toBe(false);
    expect(h.central.reports).toHaveLength(1);
    expect(h.central.reports[0]?.outcome).toBe('remediated');
  });

  it('malicious: logs off the session hosting the dropper only, and validates that session only', async () => {
    const h = await createHarness(client);
    const alert = maliciousScenario(h);
    // bob is also at the console elsewhere (session 1): not the session the attack runs in.
    h.host.add({ sessions: [{ id: 1, user: 'CONTOSO\\bob', type: 'console' }] });
    // ...and logs on again over RDP (session 5) between the logoff and its validation.
    let logoffs = 0;
    h.host.beforeActivity = async (activity) => {
      if (activity !== 'terminateSession') return;
      logoffs += 1;
      if (logoffs === 2) h.host.add({ sessions: [{ id: 5, user: 'CONTOSO\\bob', type: 'rdp' }] });
    };
    const result: IncidentStatus = await h.run(async () => {
      const handle = await h.start(alert, h.policy());
      return handle.result();
    });

    const logoff = result.actions.filter((a) => a.action === 'logoff-user');
    expect(logoff).toHaveLength(1);
    expect(logoff[0]).toMatchObject({ status: 'done', validated: true });
    expect(logoff[0]?.target).toMatch(/session 3 /);
    expect(result.outcome).toBe('remediated');
    expect(h.host.state.sessions.map((s) => s.id).sort()).toEqual([1, 5]);
    const requests = h.host.calls.filter((c) => c.activity === 'terminateSession').map((c) => c.request);
    expect(requests[0]).toMatchObject({ users: [{ name: 'bob', domain: 'CONTOSO' }], sessionIds: [3] });
    expect(requests[1]).toMatchObject({ sessionIds: [3], listOnly: true });
  });

  it('malicious: the status query and search attributes tell the same story', async () => {
    const h = await createHarness(client);
    const alert = maliciousScenario(h);
    await h.run(async () => {
      const handle = await h.start(alert, h.policy());
      const result: IncidentStatus = await handle.result();
      const status = await statusOf(handle);
      expect(status.outcome).toBe('remediated');
      expect(status.reportSent).toBe(true);
      expect(status.decision?.reasons.length).toBeGreaterThan(0);
      expect(await searchAttributes(handle)).toEqual({
        verdict: 'malicious',
        score: result.decision?.score,
        review: 'not-needed',
        remediation: 'remediated',
        host: h.hostname,
        process: 'invoice.exe',
        parent: 'WINWORD.EXE',
      });
    });
  });

  it('suspicious: waits for an analyst, and an approve signal remediates', async () => {
    const h = await createHarness(client);
    const alert = suspiciousScenario(h);
    const result: IncidentStatus = await h.run(async () => {
      const handle = await h.start(alert, h.policy());
      const waiting = await waitFor(
        () => statusOf(handle),
        (s) => s.phase === 'awaiting-review',
      );
      expect(waiting.decision?.verdict).toBe('suspicious');
      expect(waiting.review.status).toBe('pending');
      expect((await searchAttributes(handle)).review).toBe('pending');
      expect(hostActions(h)).toHaveLength(0);
      await waitFor(
        async () => h.central.reviewRequests.length,
        (n) => n === 1,
      );
      await handle.signal('approve', { analyst: 'alice', comment: 'confirmed with the user: not theirs' });
      const done = await handle.result();
      expect((await searchAttributes(handle)).review).toBe('approved');
      await keepHistory(handle, 'suspicious-approved');
      return done;
    });
    expect(result.review).toMatchObject({ status: 'approved', analyst: 'alice', via: 'signal' });
    expect(result.outcome).toBe('remediated');
    expect(hostActions(h).length).toBeGreaterThan(0);
    expect(h.central.reports[0]?.review.comment).toBe('confirmed with the user: not theirs');
  });

  it('suspicious: the review update validates its input and only applies while a review is pending', async () => {
    const h = await createHarness(client);
    const alert = suspiciousScenario(h);
    await h.run(async () => {
      const handle = await h.start(alert, h.policy());
      await waitFor(
        () => statusOf(handle),
        (s) => s.phase === 'awaiting-review',
      );
      expect(await updateRejection(handle, { decision: 'approve', analyst: '  ' })).toMatch(/analyst is required/);
      const review = await handle.executeUpdate('review', { args: [{ decision: 'approve', analyst: 'carol' }] });
      expect(review).toMatchObject({ status: 'approved', analyst: 'carol', via: 'update' });
      expect(await updateRejection(handle, { decision: 'reject', analyst: 'dave' })).toMatch(/no review is pending/);
      const result: IncidentStatus = await handle.result();
      expect(result.review.analyst).toBe('carol');
      expect(result.outcome).toBe('remediated');
    });
  });

  it('suspicious: reject closes as a false positive without touching the host', async () => {
    const h = await createHarness(client);
    const alert = suspiciousScenario(h);
    const result: IncidentStatus = await h.run(async () => {
      const handle = await h.start(alert, h.policy());
      await waitFor(
        () => statusOf(handle),
        (s) => s.phase === 'awaiting-review',
      );
      await handle.signal('reject', { analyst: 'alice', comment: 'known admin tool' });
      const done = await handle.result();
      await keepHistory(handle, 'suspicious-rejected');
      await expectSameStory(handle, done, 'none', 'rejected');
      return done;
    });
    expect(result.outcome).toBe('closed-false-positive');
    expect(result.review).toMatchObject({ status: 'rejected', analyst: 'alice', comment: 'known admin tool' });
    expect(hostActions(h)).toHaveLength(0);
    expect(h.host.state.processes.every((p) => p.running)).toBe(true);
    expect(h.central.reports).toHaveLength(1);
  });

  it('suspicious: a review timeout escalates and closes unreviewed without touching the host', async () => {
    const h = await createHarness(client);
    const alert = suspiciousScenario(h);
    await h.run(async () => {
      const handle = await h.start(alert, h.policy({ reviewTimeout: '2s' }));
      const result: IncidentStatus = await handle.result();
      expect(result.outcome).toBe('closed-unreviewed');
      expect(result.review.status).toBe('timed-out');
      expect((await searchAttributes(handle)).review).toBe('timed-out');
      await keepHistory(handle, 'suspicious-timed-out');
      await expectSameStory(handle, result, 'none', 'timed-out');
    });
    expect(h.central.reviewRequests.map((r) => r.reminder)).toEqual([false, true]);
    expect(hostActions(h)).toHaveLength(0);
  });

  it('suspicious: the `remediate` timeout policy acts as if approved', async () => {
    const h = await createHarness(client);
    const alert = suspiciousScenario(h);
    const result: IncidentStatus = await h.run(async () =>
      (await h.start(alert, h.policy({ reviewTimeout: '1s', reviewTimeoutPolicy: 'remediate' }))).result(),
    );
    expect(result.review.status).toBe('timed-out');
    expect(result.outcome).toBe('remediated');
    expect(hostActions(h).length).toBeGreaterThan(0);
  });

  it('benign: closes with no action and no mail', async () => {
    const h = await createHarness(client);
    const alert = benignScenario(h);
    await h.run(async () => {
      const handle = await h.start(alert, h.policy());
      const result: IncidentStatus = await handle.result();
      expect(result.outcome).toBe('closed-benign');
      expect(result.decision?.plan).toEqual([]);
      expect(result.actions).toEqual([]);
      expect(await searchAttributes(handle)).toMatchObject({ verdict: 'benign', remediation: 'none' });
      await keepHistory(handle, 'benign');
      await expectSameStory(handle, result, 'none', 'not-needed');
    });
    expect(hostActions(h)).toHaveLength(0);
    expect(h.central.reports).toHaveLength(0);
  });

  it('host unreachable: no host worker → the incident ends as host-unreachable and the report says so', async () => {
    const h = await createHarness(client);
    const alert = maliciousScenario(h);
    const result: IncidentStatus = await h.run(
      async () => {
        const handle = await h.start(alert, h.policy({ hostUnreachableTimeout: '2s' }));
        const done = await handle.result();
        await keepHistory(handle, 'host-unreachable');
        await expectSameStory(handle, done, 'host-unreachable', 'not-needed');
        return done;
      },
      { hostWorker: false },
    );
    expect(result.outcome).toBe('host-unreachable');
    expect(result.enrichment?.hostReachable).toBe(false);
    // The verdict still stands on the alert's own facts and reputation.
    expect(result.decision?.verdict).toBe('malicious');
    const attempted = result.actions.filter((a) => a.status !== 'skipped');
    expect(attempted.length).toBeGreaterThan(0);
    expect(attempted.every((a) => a.status === 'failed' && a.reason === 'host-unreachable')).toBe(true);
    expect(h.central.reports[0]?.actions.some((a) => a.reason === 'host-unreachable')).toBe(true);
    expect(h.host.calls).toHaveLength(0);
  });

  it('one failing action: the others still run and the report shows the failure', async () => {
    const h = await createHarness(client);
    const alert = maliciousScenario(h);
    h.host.failures.terminateSession = 'Access is denied';
    const result: IncidentStatus = await h.run(async () => {
      const handle = await h.start(alert, h.policy());
      const done = await handle.result();
      await keepHistory(handle, 'partially-remediated');
      await expectSameStory(handle, done, 'partial', 'not-needed');
      return done;
    });
    expect(result.outcome).toBe('partially-remediated');
    const logoff = result.actions.find((a) => a.action === 'logoff-user');
    expect(logoff).toMatchObject({ status: 'failed' });
    expect(logoff?.message).toMatch(/Access is denied/);
    expect(
      result.actions
        .filter((a) => a.action !== 'logoff-user' && a.status !== 'skipped')
        .every((a) => a.status === 'done'),
    ).toBe(true);
    expect(result.actions.some((a) => a.action === 'fetch-persistence' && a.status === 'done')).toBe(true);
    expect(h.central.reports[0]?.actions.find((a) => a.action === 'logoff-user')?.status).toBe('failed');
  });

  it('a central worker restarted mid-remediation: the incident completes once', async () => {
    const h = await createHarness(client);
    const alert = maliciousScenario(h);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let held = false;
    h.host.beforeActivity = async (activity) => {
      if (activity === 'stopProcess' && !held) {
        held = true;
        await gate;
      }
    };
    const hostWorker = await h.startHostWorker();
    try {
      const handle = await h.run(
        async () => {
          const started = await h.start(alert, h.policy());
          await waitFor(
            async () => held,
            (v) => v,
          );
          return started;
        },
        { hostWorker: false },
      ); // the central worker is gone now, with the host action in flight
      expect((await handle.describe()).status.name).toBe('RUNNING');
      release();
      const result: IncidentStatus = await h.run(() => handle.result(), { hostWorker: false });
      expect(result.outcome).toBe('remediated');
      expect(h.central.reports).toHaveLength(1);
      expect(h.host.calls.filter((c) => c.activity === 'stopProcess')).toHaveLength(
        result.actions.filter((a) => a.action.startsWith('terminate-')).length,
      );
    } finally {
      hostWorker.worker.shutdown();
      await hostWorker.running;
    }
  });
});
