/**
 * Completing the playbook (issue 17) on the real dev server, with the real central worker and the
 * lab host behind the host worker: persistence removal on an analyst's approval (backed up, verified,
 * restorable), the undo workflow (`incidentRestore`), the process tree, related incidents and the
 * notify-only policy.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import type { IncidentStatus } from '../../common/incident-status';
import { SA } from '../../common/names';
import { restoreStatus, reviewPersistence, startRestore } from '../../client/ingest/incidents';
import type { RestoreStatus } from '../../common/restore';
import { createHarness, statusOf, waitFor, withHeldReport, type Harness } from '../support/playbook-harness';
import { HASH, maliciousScenario, suspiciousScenario } from '../support/scenarios';
import { testClient } from '../support/temporal';

jest.setTimeout(180_000);

let client: Client;
beforeAll(async () => {
  client = await testClient();
});

const DROPPER = 'C:\\Users\\bob\\AppData\\Local\\Temp\\invoice.exe';
const RUN_KEY = 'HKU\\S-1-5-21-1\\Software\\Microsoft\\Windows\\CurrentVersion\\Run';
const ALICE = {
  issuer: 'https://idp.example.test',
  subject: 'alice-0001',
  name: 'Alice Analyst',
  email: 'alice@example.test',
};

const runKeyOnHost = (h: Harness) =>
  h.host.state.persistence.find((e) => e.kind === 'run-key' && e.location === RUN_KEY && e.name === 'Updater');

/** Waits until the incident offers its persistence proposals (after remediation and the report). */
async function proposalsOf(handle: WorkflowHandle): Promise<IncidentStatus> {
  return waitFor(
    () => statusOf(handle),
    (s) => s.phase === 'awaiting-persistence-review',
    60_000,
  );
}

async function restoreOf(
  h: Harness,
  incidentId: string,
  input: { files?: 'all' | string[]; persistence?: 'all' | string[] },
) {
  const restore = await startRestore(
    client,
    {
      incidentId,
      ...input,
      analyst: 'alice',
      comment: 'IT confirmed the updater',
      identity: ALICE,
      policy: h.policy(),
    },
    { taskQueue: h.taskQueue },
  );
  expect(restore).toMatch(new RegExp(`^${incidentId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.restore-\\d+$`));
  const result = (await client.workflow.getHandle(restore).result()) as RestoreStatus;
  return { restore, result };
}

describe('persistence removal on approval, and undo', () => {
  it('proposes the offender’s Run key only, removes it on approval (backed up, verified), and a restore puts file and key back', async () => {
    const h = await createHarness(client);
    const alert = maliciousScenario(h);
    // A second referencing entry of a kind removed by hand only: listed, not proposed.
    h.host.add({
      persistence: [
        {
          kind: 'ifeo-debugger',
          location: 'HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Image File Execution Options\\sethc.exe',
          name: 'Debugger',
          command: `"${DROPPER}"`,
        },
      ],
    });

    await h.run(async () => {
      const handle = await h.start(alert, h.policy({ persistenceReviewTimeout: '10m' }));
      const waiting = await proposalsOf(handle);
      expect(waiting.outcome).toBe('remediated');
      const removal = waiting.persistenceRemoval!;
      expect(removal.status).toBe('pending');
      expect(removal.proposals).toEqual([
        expect.objectContaining({
          id: 'p1',
          kind: 'run-key',
          location: RUN_KEY,
          name: 'Updater',
          command: `"${DROPPER}" /silent`,
          matchedPath: DROPPER,
          state: 'proposed',
        }),
      ]);
      // Defrag's task references nothing of the incident; the IFEO entry is one to remove by hand.
      expect(removal.notProposed).toEqual([
        expect.objectContaining({ kind: 'ifeo-debugger', why: expect.stringMatching(/not removed automatically/) }),
      ]);
      // The first report is out, and it asks for the decision.
      expect(h.central.reports).toHaveLength(1);
      expect(h.central.reports[0]!.persistenceRemoval?.proposals[0]?.state).toBe('proposed');
      // Still on the host: nothing is removed without an approval.
      expect(runKeyOnHost(h)).toBeDefined();

      // An entry that is not proposed is refused by the update's validator, and changes nothing.
      await expect(
        reviewPersistence(client, handle.workflowId, { decision: 'remove', analyst: 'alice', entries: ['p7'] }),
      ).rejects.toMatchObject({ cause: { message: expect.stringMatching(/p7: no such proposal \(proposed: p1\)/) } });
      expect(runKeyOnHost(h)).toBeDefined();

      const decided = await reviewPersistence(client, handle.workflowId, {
        decision: 'remove',
        analyst: 'Alice Analyst',
        comment: 'the dropper’s autostart',
        identity: ALICE,
        entries: ['p1'],
      });
      expect(decided.proposals[0]).toMatchObject({
        state: 'approved',
        decidedBy: { analyst: 'Alice Analyst', identity: ALICE },
      });

      const done = (await handle.result()) as IncidentStatus;
      expect(done.phase).toBe('closed');
      expect(done.outcome).toBe('remediated');
      const proposal = done.persistenceRemoval!.proposals[0]!;
      expect(proposal.state).toBe('removed');
      expect(proposal.result).toMatchObject({
        status: 'done',
        verified: true,
        backup: { id: expect.stringMatching(/^[0-9a-f]{64}$/), format: 'registry-value' },
      });
      expect(done.persistenceRemoval!.status).toBe('done');
      // Removed on the host, with its backup kept there.
      expect(runKeyOnHost(h)).toBeUndefined();
      expect(h.host.state.persistenceBackups).toEqual([
        expect.objectContaining({
          id: proposal.result!.backup!.id,
          restored: false,
          entry: expect.objectContaining({ name: 'Updater' }),
        }),
      ]);
      // The action is in the audit trail with its D3FEND label, and a second report says what was removed.
      expect(done.actions.find((a) => a.action === 'remove-persistence')).toMatchObject({
        status: 'done',
        validated: true,
      });
      expect(h.central.reports).toHaveLength(2);
      expect(h.central.reports[1]!.persistenceRemoval?.proposals[0]?.state).toBe('removed');
      // The host was asked with the approved entry only, and the request named the offender.
      const removals = h.host.calls.filter((c) => c.activity === 'removePersistenceEntries');
      expect(removals).toHaveLength(1);
      expect(removals[0]!.request).toMatchObject({
        entries: [{ kind: 'run-key', name: 'Updater', matchedPath: DROPPER }],
      });

      // ---- undo: the quarantined dropper and the Run key come back ----
      expect(h.host.hasFile(DROPPER)).toBe(false);
      const { restore, result } = await restoreOf(h, handle.workflowId, { files: 'all', persistence: 'all' });
      expect(result.outcome).toBe('restored');
      expect(result.requestedBy).toMatchObject({
        analyst: 'alice',
        identity: ALICE,
        comment: 'IT confirmed the updater',
      });
      expect(result.actions.map((a) => [a.action, a.status, a.validated])).toEqual([
        ['restore-file', 'done', true],
        ['restore-persistence', 'done', true],
      ]);
      expect(result.actions[0]!.message).toMatch(/hash verified at its path; original permissions restored/);
      expect(h.host.hasFile(DROPPER)).toBe(true);
      expect(h.host.state.files.find((f) => f.path === DROPPER)?.sha256).toBe(HASH.dropper);
      expect(runKeyOnHost(h)?.command).toBe(`"${DROPPER}" /silent`);
      expect(h.central.restoreReports.map((r) => r.workflowId)).toEqual([restore]);
      expect((await restoreStatus(client, restore)).outcome).toBe('restored');
    });
  });

  it('refuses to restore a file over another one at its original path, and says so', async () => {
    const h = await createHarness(client);
    const alert = maliciousScenario(h);
    await h.run(async () => {
      const handle = await h.start(alert, h.policy());
      const done = (await handle.result()) as IncidentStatus;
      expect(done.persistenceRemoval?.status).toBe('timed-out');
      expect(done.persistenceRemoval?.proposals[0]?.state).toBe('expired');
      // Nothing was approved: the Run key is still there, and no second report went out.
      expect(runKeyOnHost(h)).toBeDefined();
      expect(h.central.reports).toHaveLength(1);

      // Someone put a new file where the dropper was.
      h.host.add({ files: [{ path: DROPPER, sha256: '9'.repeat(64), signatureStatus: 'unsigned' }] });
      const { result } = await restoreOf(h, handle.workflowId, { files: 'all' });
      expect(result.outcome).toBe('partially-restored');
      expect(result.actions).toEqual([
        expect.objectContaining({
          action: 'restore-file',
          status: 'skipped',
          reason: 'target-exists',
          message: expect.stringMatching(/refused: another file is at the original path/),
        }),
      ]);
      // The newcomer is untouched; the quarantined copy stays in quarantine.
      expect(h.host.state.files.find((f) => f.path === DROPPER)?.sha256).toBe('9'.repeat(64));
      expect(h.host.state.files.some((f) => f.sha256 === HASH.dropper)).toBe(true);

      // A hash the incident never quarantined is named and refused; nothing is asked of the host.
      const calls = h.host.calls.length;
      const { result: unknown } = await restoreOf(h, handle.workflowId, { files: ['1'.repeat(64)] });
      expect(unknown.outcome).toBe('nothing-to-restore');
      expect(unknown.actions).toEqual([expect.objectContaining({ status: 'skipped', reason: 'not-quarantined' })]);
      expect(h.host.calls.length).toBe(calls);
    });
  });

  it('"keep" is taken as soon as the proposals are offered, while the report is still being sent, and closes at once', async () => {
    const h = await createHarness(client);
    const alert = maliciousScenario(h);
    const held = withHeldReport(h.central);
    await h.run(
      async () => {
        const handle = await h.start(alert, h.policy({ persistenceReviewTimeout: '10m' }));
        // The report is held (an SMTP outage): the status already offers the proposals, and a
        // decision made now is taken, not refused for a handler not yet there.
        const offered = await waitFor(
          () => statusOf(handle),
          (s) => s.persistenceRemoval?.status === 'pending',
          60_000,
        );
        expect(offered.phase).toBe('notifying');
        const kept = await reviewPersistence(client, handle.workflowId, {
          decision: 'keep',
          analyst: 'bob',
          comment: 'our updater',
        });
        expect(kept.proposals[0]?.state).toBe('kept');
        held.release();
        const done = (await handle.result()) as IncidentStatus;
        expect(done.persistenceRemoval).toMatchObject({ status: 'done', proposals: [{ state: 'kept' }] });
        expect(runKeyOnHost(h)).toBeDefined();
        expect(h.host.calls.some((c) => c.activity === 'removePersistenceEntries')).toBe(false);
        // Once decided, another decision is refused.
        await expect(
          reviewPersistence(client, handle.workflowId, { decision: 'remove', analyst: 'bob' }),
        ).rejects.toThrow(/closed|no persistence removal is pending/);
      },
      { centralActivities: held.activities },
    );
  });
});

describe('process tree and related incidents', () => {
  it('the process tree comes from the host; a second incident on the host lists the first and weighs the repeat', async () => {
    const h = await createHarness(client);
    const first = maliciousScenario(h);
    await h.run(async () => {
      const handle = await h.start(first, h.policy());
      const done = (await handle.result()) as IncidentStatus;
      // Ancestry and descendants, from GetProcessTree on the host.
      expect(done.enrichment?.processTree?.child).toMatchObject({
        pid: 6120,
        descendants: [expect.objectContaining({ pid: 6200, name: 'conhost.exe' })],
      });
      expect(done.enrichment?.processTree?.parent).toMatchObject({ pid: 4312, name: 'WINWORD.EXE' });
      expect(done.related).toMatchObject({ window: '48h', incidents: [] });
      // The user is searchable.
      const description = await handle.describe();
      expect(description.typedSearchAttributes.get(SA.UserName)).toBe('bob@contoso');

      // The same host again, a suspicious pair this time: the first incident is related, and its
      // malicious verdict raises this one's score with a named reason.
      const second = suspiciousScenario(h);
      await waitFor(
        async () => {
          const found = [];
          for await (const e of client.workflow.list({
            query: `WorkflowId = "${handle.workflowId}" AND Verdict = "malicious"`,
          }))
            found.push(e);
          return found.length;
        },
        (n) => n === 1,
        30_000,
      );
      const next = await h.start(second, h.policy());
      const waiting = await waitFor(
        () => statusOf(next),
        (s) => s.decision !== null,
        60_000,
      );
      expect(waiting.related?.incidents).toEqual([
        expect.objectContaining({
          workflowId: handle.workflowId,
          verdict: 'malicious',
          matchedBy: expect.arrayContaining(['host']),
        }),
      ]);
      const repeat = waiting.decision?.reasons.find((r) => r.code === 'repeat-offender');
      expect(repeat?.weight).toBe(15);
      expect(repeat?.evidence).toContain(handle.workflowId);
      await next.terminate('test done');
    });
  });

  it('related by user: a crafted user name cannot widen the visibility query', async () => {
    const h = await createHarness(client);
    h.central.relatedByUser = true;
    const user = `o"brien\\${randomUUID().slice(0, 8)}`;
    const alert = { ...maliciousScenario(h), user: { name: user, domain: 'CONTOSO' } };
    await h.run(async () => {
      const handle = await h.start(alert, h.policy());
      const done = (await handle.result()) as IncidentStatus;
      // Nothing else on the server shares this host or this user: a quote in the name did not end
      // the literal and add a clause matching every incident.
      expect(done.related?.error ?? null).toBeNull();
      expect(done.related?.incidents).toEqual([]);
      const description = await handle.describe();
      expect(description.typedSearchAttributes.get(SA.UserName)).toBe(
        `${user.toLowerCase().replace(/["\\]/g, '')}@contoso`,
      );

      // Another host, the same user: found by the user.
      const other = await createHarness(client);
      const again = { ...maliciousScenario(other), user: { name: user, domain: 'CONTOSO' } };
      other.central.relatedByUser = true;
      const found = await other.run(async () => {
        const next = await other.start(again, other.policy());
        return (await next.result()) as IncidentStatus;
      });
      expect(found.related?.incidents).toEqual([
        expect.objectContaining({ workflowId: handle.workflowId, matchedBy: ['user'] }),
      ]);
    });
  });
});

describe('notify-only policy', () => {
  it('a suspicious verdict is reported and closed: no review request, nothing done on the host', async () => {
    const h = await createHarness(client);
    const alert = suspiciousScenario(h);
    await h.run(async () => {
      const handle = await h.start(alert, h.policy({ suspiciousPolicy: 'notify-only' }));
      const done = (await handle.result()) as IncidentStatus;
      expect(done.decision?.verdict).toBe('suspicious');
      expect(done.outcome).toBe('closed-notified');
      expect(done.review.status).toBe('not-needed');
      expect(done.actions).toEqual([]);
      expect(h.central.reviewRequests).toEqual([]);
      expect(h.central.reports.map((r) => r.outcome)).toEqual(['closed-notified']);
      const acting = ['stopProcess', 'stopAndQuarantineProcess', 'terminateSession', 'removePersistenceEntries'];
      expect(h.host.calls.filter((c) => acting.includes(c.activity))).toEqual([]);
    });
  });
});
