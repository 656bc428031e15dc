/** `spawnguard review list|approve|reject` as an analyst runs them, against the real dev server. */
import type { Client } from '@temporalio/client';
import { IncidentStatusSchema } from '../../common/incident-status';
import { NO_REVIEW_RULE } from '../ingest/fixtures/review-playbook';
import {
  alertDocument,
  freshHostname,
  runCli,
  startStandInIncident,
  waitFor,
  withStandInPlaybook,
} from '../ingest/support';
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

const resultOf = async (workflowId: string) =>
  IncidentStatusSchema.parse(await client.workflow.getHandle(workflowId).result());

describe('spawnguard review', () => {
  it('lists the incidents waiting for an analyst', async () => {
    const taskQueue = uniqueTaskQueue('cli-review');
    const workflowId = await startStandInIncident(client, taskQueue);
    await withStandInPlaybook(taskQueue, async () => {
      // Visibility follows the workflow's search-attribute upsert shortly after.
      const listed = await waitFor(
        async () => JSON.parse((await runCli(['review', 'list', '--json'])).stdout) as { workflowId: string }[],
        (reviews) => reviews.some((r) => r.workflowId === workflowId),
      );
      expect(listed.find((r) => r.workflowId === workflowId)).toMatchObject({
        workflowId,
        verdict: 'suspicious',
        riskScore: 55,
        parentProcessName: 'WINWORD.EXE',
        processName: 'powershell.exe',
        status: { decision: { verdict: 'suspicious', score: 55 }, review: { status: 'pending' } },
      });

      const table = await runCli(['review', 'list']);
      expect(table.code).toBe(0);
      expect(table.stdout.split('\n')[0]).toMatch(
        /^WORKFLOW ID\s+HOST\s+PARENT → CHILD\s+VERDICT\s+SCORE\s+WAITING SINCE$/,
      );
      expect(table.stdout).toMatch(
        new RegExp(
          `${workflowId.replace(/\./g, '\\.')}\\s+\\S+\\s+WINWORD\\.EXE → powershell\\.exe\\s+suspicious\\s+55\\s`,
        ),
      );
    });
  });

  it('approve moves the incident on to remediation', async () => {
    const taskQueue = uniqueTaskQueue('cli-review');
    const workflowId = await startStandInIncident(client, taskQueue);
    await withStandInPlaybook(taskQueue, async () => {
      const run = await runCli([
        'review',
        'approve',
        workflowId,
        '--analyst',
        'alice',
        '--comment',
        'macro from phishing',
      ]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout.trim()).toBe(`Approved ${workflowId} as alice.`);
      expect(await resultOf(workflowId)).toMatchObject({
        outcome: 'remediated',
        review: { status: 'approved', analyst: 'alice', comment: 'macro from phishing', via: 'update' },
      });
    });
  });

  it('reject closes the incident as a false positive', async () => {
    const taskQueue = uniqueTaskQueue('cli-review');
    const workflowId = await startStandInIncident(client, taskQueue);
    await withStandInPlaybook(taskQueue, async () => {
      const run = await runCli(['review', 'reject', workflowId, '--analyst', 'bob', '--json']);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ status: 'rejected', analyst: 'bob' });
      expect(await resultOf(workflowId)).toMatchObject({
        outcome: 'closed-false-positive',
        review: { status: 'rejected' },
      });
    });
    // Once closed, a decision says how and when it closed, and exits 1 (not 3: the incident exists).
    const late = await runCli(['review', 'approve', workflowId, '--analyst', 'alice']);
    expect(late.code).toBe(1);
    expect(late.stderr).toMatch(
      new RegExp(
        `incident ${workflowId} has closed at \\S+Z as closed-false-positive, rejected by bob at \\S+; no review is pending`,
      ),
    );
  });

  it('says why when a decision cannot be recorded, with distinct exit codes', async () => {
    const taskQueue = uniqueTaskQueue('cli-review');
    const document = alertDocument('canonical', freshHostname());
    document.ruleName = NO_REVIEW_RULE;
    const workflowId = await startStandInIncident(client, taskQueue, document);
    await withStandInPlaybook(taskQueue, async () => {
      const notPending = await runCli(['review', 'approve', workflowId, '--analyst', 'alice']);
      expect(notPending.code).toBe(1);
      expect(notPending.stderr).toMatch(/no review is pending/);

      const noAnalyst = await runCli(['review', 'approve', workflowId]);
      expect(noAnalyst.code).toBe(2);
      expect(noAnalyst.stderr).toMatch(/--analyst/);

      const blankAnalyst = await runCli(['review', 'reject', workflowId, '--analyst', ' ']);
      expect(blankAnalyst.code).toBe(2);
      expect(blankAnalyst.stderr).toMatch(/analyst is required/);
    });
    const unknown = await runCli(['review', 'approve', 'spawnguard-nosuchhost-1-2', '--analyst', 'alice']);
    expect(unknown.code).toBe(3);
  });
});
