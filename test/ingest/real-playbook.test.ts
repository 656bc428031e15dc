/**
 * Ingest and review against the real playbook (real workflows, test central activities and test
 * host on real workers): what the stand-in stands for, checked once end to end.
 */
import type { Client } from '@temporalio/client';
import { reviewLink } from '../../client/review/links';
import { IncidentStatusSchema, type IncidentStatus } from '../../common/incident-status';
import { createHarness, statusOf, type Harness } from '../support/playbook-harness';
import { suspiciousScenario } from '../support/scenarios';
import { testClient } from '../support/temporal';
import { jsonOf, startTestIngest, waitFor, type TestIngest } from './support';

let client: Client;
let h: Harness;
let ingest: TestIngest;

beforeAll(async () => {
  client = await testClient();
  h = await createHarness(client);
  ingest = await startTestIngest(client, { taskQueue: h.taskQueue });
});
afterAll(async () => {
  await ingest?.close();
  await client?.connection.close();
});

it('a suspicious alert posted to ingest waits for review, records its duplicate, and an approval over HTTP remediates', async () => {
  const alert = suspiciousScenario(h);
  await h.run(async () => {
    const accepted = await jsonOf(await ingest.post('/v1/alerts', alert));
    expect(accepted.deduplicated).toBe(false);
    const handle = client.workflow.getHandle(accepted.workflowId);
    const duplicate = await jsonOf(await ingest.post('/v1/alerts', { ...alert, alertId: `${alert.alertId}-again` }));
    expect(duplicate).toEqual({ ...accepted, deduplicated: true });

    const waiting = await waitFor(
      () => statusOf(handle),
      (s: IncidentStatus) => s.review.status === 'pending',
      60_000,
    );
    expect(waiting.decision?.verdict).toBe('suspicious');
    expect(waiting.duplicates.map((d) => d.alertId)).toEqual([`${alert.alertId}-again`]);

    const page = await fetch(
      reviewLink(accepted.workflowId, { publicUrl: ingest.url, secret: ingest.linkSecret, ttlMs: 60_000 }),
    );
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('name="decision" value="approve"');

    const response = await ingest.post(`/v1/incidents/${accepted.workflowId}/review`, {
      decision: 'approve',
      analyst: 'alice',
    });
    expect(response.status).toBe(200);
    const result = IncidentStatusSchema.parse(await handle.result());
    expect(result.review).toMatchObject({ status: 'approved', analyst: 'alice', via: 'update' });
    expect(result.phase).toBe('closed');
    expect(result.outcome).toBe('remediated');
    expect(h.host.calls.map((c) => c.activity)).toContain('stopProcess');
  });
});
