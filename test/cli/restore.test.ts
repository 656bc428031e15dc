/**
 * `spawnguard persistence remove|keep` and `spawnguard restore` as an analyst runs them (the real CLI
 * in a subprocess), on an incident of the real playbook run by the harness's workers on the dev
 * server, with the lab host behind its host worker.
 */
import type { Client } from '@temporalio/client';
import type { IncidentStatus } from '../../common/incident-status';
import { runCli } from '../ingest/support';
import { createHarness, statusOf, waitFor } from '../support/playbook-harness';
import { HASH, maliciousScenario } from '../support/scenarios';
import { testClient } from '../support/temporal';

// CLI subprocesses (each loads TypeScript through tsx) are slow when the whole suite shares 2 cores.
jest.setTimeout(240_000);

let client: Client;
beforeAll(async () => {
  client = await testClient();
});

const DROPPER = 'C:\\Users\\bob\\AppData\\Local\\Temp\\invoice.exe';

it('persistence remove, then restore --all: the Run key goes, then the file and the key come back', async () => {
  const h = await createHarness(client);
  const alert = maliciousScenario(h);
  await h.run(async () => {
    const handle = await h.start(alert, h.policy({ persistenceReviewTimeout: '10m' }));
    const waiting = await waitFor(
      () => statusOf(handle),
      (s) => s.phase === 'awaiting-persistence-review',
      60_000,
    );
    expect(waiting.persistenceRemoval?.proposals.map((p) => p.id)).toEqual(['p1']);

    // The status shows the proposals for a person, with how to decide.
    const shown = await runCli(['status', handle.workflowId]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/Persistence removal\n-+\n/);
    expect(shown.stdout).toMatch(/p1: run-key .*Updater.* PROPOSED for removal/);
    expect(shown.stdout).toMatch(/Process tree \(from the host\)/);
    expect(shown.stdout).toMatch(/^\S+\s+D3-PT Process Termination\s/m);

    // Bad input changes nothing: a proposal id that is not one, a missing analyst.
    const badEntry = await runCli(['persistence', 'remove', handle.workflowId, '--analyst', 'alice', '--entry', 'x1']);
    expect(badEntry.code).toBe(2);
    expect(badEntry.stderr).toMatch(/--entry: entries are named p1, p2/);
    const noAnalyst = await runCli(['persistence', 'remove', handle.workflowId]);
    expect(noAnalyst.code).toBe(2);
    expect(noAnalyst.stderr).toMatch(/--analyst/);
    const notProposed = await runCli([
      'persistence',
      'remove',
      handle.workflowId,
      '--analyst',
      'alice',
      '--entry',
      'p9',
    ]);
    expect(notProposed.code).toBe(1);
    expect(notProposed.stderr).toMatch(/p9: no such proposal/);
    expect(h.host.calls.some((c) => c.activity === 'removePersistenceEntries')).toBe(false);

    const removed = await runCli([
      'persistence',
      'remove',
      handle.workflowId,
      '--analyst',
      'alice',
      '--entry',
      'p1',
      '--comment',
      'dropper autostart',
    ]);
    expect(removed.stderr).toBe('');
    expect(removed.code).toBe(0);
    expect(removed.stdout).toMatch(/Approved removal of p1 on /);
    expect(removed.stdout).toMatch(/^p1\s+run-key\s+.*Updater\s+approved\s+alice$/m);
    const done = (await handle.result()) as IncidentStatus;
    expect(done.persistenceRemoval?.proposals[0]).toMatchObject({ state: 'removed', decidedBy: { analyst: 'alice' } });
    expect(h.host.state.persistence.some((e) => e.name === 'Updater')).toBe(false);

    // Restore: nothing named is a usage error; an unknown incident is "not found".
    const nothing = await runCli(['restore', handle.workflowId, '--analyst', 'alice']);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toMatch(/name what to restore/);
    const badHash = await runCli(['restore', handle.workflowId, '--analyst', 'alice', '--file', 'abc']);
    expect(badHash.code).toBe(2);
    expect(badHash.stderr).toMatch(/--file: a SHA-256 is 64 hex digits/);
    const unknown = await runCli(['restore', 'no-such-incident-4242', '--all', '--analyst', 'alice']);
    expect(unknown.code).toBe(3);

    const restored = await runCli(['restore', handle.workflowId, '--all', '--analyst', 'alice', '--json']);
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    const result = JSON.parse(restored.stdout) as {
      outcome: string;
      actions: { action: string; validated: boolean }[];
    };
    expect(result.outcome).toBe('restored');
    expect(result.actions.map((a) => [a.action, a.validated])).toEqual([
      ['restore-file', true],
      ['restore-persistence', true],
    ]);
    expect(h.host.state.files.find((f) => f.path === DROPPER)?.sha256).toBe(HASH.dropper);
    expect(h.host.state.persistence.some((e) => e.name === 'Updater')).toBe(true);

    // Again: everything is already back, and a person reads it as a table.
    const again = await runCli(['restore', handle.workflowId, '--all', '--analyst', 'alice']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/\.restore-\d+: restored/);
    expect(again.stdout).toMatch(/^restore-file\s+.*invoice\.exe.*already-done.*\s+yes$/m);
  });
});
