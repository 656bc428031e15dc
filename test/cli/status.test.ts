/** `spawnguard status` as a user runs it, against the real dev server and the stand-in playbook. */
import type { Client } from '@temporalio/client';
import { IncidentStatusSchema } from '../../common/incident-status';
import { alertDocument, freshHostname, runCli, startStandInIncident, withStandInPlaybook } from '../ingest/support';
import { waitFor } from '../support/playbook-harness';
import { testClient, uniqueTaskQueue } from '../support/temporal';

// CLI subprocesses (each loads TypeScript through tsx) are slow when the whole suite shares 2 cores.
jest.setTimeout(180_000);

let client: Client;
beforeAll(async () => {
  client = await testClient();
});
afterAll(async () => {
  await client?.connection.close();
});

describe('spawnguard status', () => {
  it('prints the incident readably, and in full with --json', async () => {
    const taskQueue = uniqueTaskQueue('cli-status');
    const workflowId = await startStandInIncident(client, taskQueue);
    await withStandInPlaybook(taskQueue, async () => {
      const run = await runCli(['status', workflowId]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`Incident   ${workflowId}`);
      expect(run.stdout).toMatch(/Pair\s+WINWORD\.EXE \(PID 4312\) → powershell\.exe \(PID 6120\)/);
      expect(run.stdout).toMatch(/Verdict\s+suspicious, score 55\/100, confidence low/);
      expect(run.stdout).toMatch(/Review\s+pending since/);
      expect(run.stdout).toMatch(/30\s+unsigned-user-writable\s+WINWORD\.EXE is unsigned/);
      expect(run.stdout).toMatch(/terminate-child\s+PID 6120/);

      const json = await runCli(['status', workflowId, '--json']);
      expect(json.code).toBe(0);
      const status = IncidentStatusSchema.parse(JSON.parse(json.stdout));
      expect(status).toMatchObject({ workflowId, phase: 'awaiting-review', review: { status: 'pending' } });
    });
  });

  it('without an id lists recent incidents, filtered by host, verdict and age; bad filters exit 2', async () => {
    const hostname = freshHostname();
    const taskQueue = uniqueTaskQueue('cli-status-list');
    const workflowId = await startStandInIncident(client, taskQueue, alertDocument('canonical', hostname));
    const listed = await waitFor(
      () => runCli(['status', '--host', hostname, '--since', '1h', '--json']),
      (run) => run.code === 0 && run.stdout.includes(workflowId),
      60_000,
    );
    const incidents = JSON.parse(listed.stdout) as { workflowId: string; hostname: string; execution: string }[];
    expect(incidents).toEqual([expect.objectContaining({ workflowId, execution: 'RUNNING' })]);

    const table = await runCli(['status', '--host', hostname]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^STARTED\s+INCIDENT\s+HOST\s+PAIR\s+VERDICT\s+REVIEW\s+REMEDIATION\s+STATE$/m);
    expect(table.stdout).toContain(workflowId);
    expect(table.stdout).toMatch(/not decided\s+—\s+—\s+open$/m);

    // Another verdict than this incident's (not decided yet): nothing.
    const none = await runCli(['status', '--host', hostname, '--verdict', 'malicious']);
    expect(none.stdout.trim()).toBe('No incident matches.');

    const badVerdict = await runCli(['status', '--verdict', 'evil" OR WorkflowId != "']);
    expect(badVerdict.code).toBe(2);
    expect(badVerdict.stderr).toMatch(/--verdict must be one of malicious, suspicious, benign/);
    const badSince = await runCli(['status', '--since', 'yesterday']);
    expect(badSince.code).toBe(2);
    expect(badSince.stderr).toMatch(/--since must be a duration/);
    await client.workflow.getHandle(workflowId).terminate('test done');
  });

  it('exits 3 for an unknown incident', async () => {
    const run = await runCli(['status', 'spawnguard-nosuchhost-1-2']);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/no such incident/);
  });
});
