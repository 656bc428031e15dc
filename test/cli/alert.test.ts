/** `spawnguard alert` as a user runs it (a subprocess), against the real dev server. */
import type { Client } from '@temporalio/client';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { incidentWorkflowId } from '../../common/incident';
import { CENTRAL_TASK_QUEUE, SA } from '../../common/names';
import { normalizeAlert } from '../../common/normalize';
import { freePort } from '../../client/dev-server';
import { alertDocument, freshHostname, runCli, workflowExists } from '../ingest/support';
import { testClient } from '../support/temporal';

// CLI subprocesses (each loads TypeScript through tsx) are slow when the whole suite shares 2 cores.
jest.setTimeout(180_000);

let client: Client;
let folder: string;
const started: string[] = [];

beforeAll(async () => {
  client = await testClient();
  folder = mkdtempSync(join(tmpdir(), 'spawnguard-cli-alert-'));
});
afterAll(async () => {
  // These incidents sit on spawnguard-central; end them so no other test's central worker picks them up.
  for (const workflowId of started)
    await client.workflow
      .getHandle(workflowId)
      .terminate('test over')
      .catch(() => undefined);
  await client?.connection.close();
  rmSync(folder, { recursive: true, force: true });
});

function writeJson(name: string, value: unknown): string {
  const path = join(folder, name);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
}

describe('spawnguard alert', () => {
  it('submits an alert file: the incident starts on spawnguard-central; the same file again attaches to it', async () => {
    const document = alertDocument('sysmon-1', freshHostname());
    const alert = normalizeAlert(document);
    const file = writeJson('sysmon.json', document);

    const first = await runCli(['alert', file, '--json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const submission = JSON.parse(first.stdout);
    started.push(submission.workflowId);
    expect(submission).toEqual({
      workflowId: incidentWorkflowId(alert),
      runId: expect.any(String),
      deduplicated: false,
    });
    const description = await client.workflow.getHandle(submission.workflowId).describe();
    expect(description.taskQueue).toBe(CENTRAL_TASK_QUEUE);
    expect(description.status.name).toBe('RUNNING');
    expect(description.typedSearchAttributes.get(SA.AlertId)).toBe(alert.alertId);

    const again = await runCli(['alert', file, '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ ...submission, deduplicated: true });
  });

  it('reads a batch from stdin and prints a table', async () => {
    const documents = [
      alertDocument('canonical', freshHostname()),
      alertDocument('ecs-process-event', freshHostname()),
    ];
    const ids = documents.map((d) => incidentWorkflowId(normalizeAlert(d)));
    const run = await runCli(['alert', '-'], { input: JSON.stringify(documents) });
    started.push(...ids);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ALERT\s+WORKFLOW ID\s+RUN ID\s+RESULT$/);
    for (const [index, id] of ids.entries()) {
      expect(lines[index + 1]).toContain(id);
      expect(lines[index + 1]).toMatch(/incident started$/);
      expect(await workflowExists(client, id)).toBe(true);
    }
  });

  it('refuses an invalid alert with exit code 2, naming the field, and starts nothing', async () => {
    const document = alertDocument('security-4688', freshHostname());
    const workflowId = incidentWorkflowId(normalizeAlert(document));
    (document.winlog as { event_data: Record<string, unknown> }).event_data.ProcessId = 'parent';
    const run = await runCli(['alert', writeJson('bad-4688.json', document)]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/winlog\.event_data\.ProcessId/);
    expect(await workflowExists(client, workflowId)).toBe(false);

    const notJson = await runCli(['alert', writeJson('prose.json', 'powershell started')]);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toMatch(/prose\.json is not valid JSON/);
    // The file's content is an attacker's text: never repeated in the error.
    expect(notJson.stderr).not.toContain('powershell');
  });

  it('reads only regular files of a bounded size, and says what is wrong in plain words', async () => {
    const missing = await runCli(['alert', writeJson('x.json', {}).replace(/x\.json$/, 'nope.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^spawnguard: cannot read \S*nope\.json: no such file\n$/);
    // A device is refused before anything is read (it would grow the process without end).
    const device = await runCli(['alert', '/dev/zero']);
    expect(device.code).toBe(2);
    expect(device.stderr).toMatch(/\/dev\/zero is not a regular file/);
  });

  it('exits 4 and names the address when Temporal cannot be reached', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const document = alertDocument('canonical', freshHostname());
    const run = await runCli(['alert', writeJson('offline.json', document)], { env: { TEMPORAL_ADDRESS: address } });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain(`TEMPORAL_ADDRESS=${address}`);
    expect(await workflowExists(client, incidentWorkflowId(normalizeAlert(document)))).toBe(false);
  });
});
