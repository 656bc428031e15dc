/**
 * Ingest and review against the real playbook (real workflows, test central activities and test
 * host on real workers): what the stand-in stands for, checked once end to end.
 */
import type { Client } from '@temporalio/client';
import { reviewLink } from '../../activities/notification/review-links';
import { IncidentStatusSchema, type IncidentStatus } from '../../common/incident-status';
import { createHarness, statusOf, type Harness } from '../support/playbook-harness';
import { maliciousScenario, suspiciousScenario } from '../support/scenarios';
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

it('persistence removal and restore over HTTP: validated bodies, the update, and the restore workflow', async () => {
  const alert = maliciousScenario(h);
  await h.run(async () => {
    const handle = await h.start(alert, h.policy({ persistenceReviewTimeout: '10m' }));
    await waitFor(
      () => statusOf(handle),
      (s: IncidentStatus) => s.phase === 'awaiting-persistence-review',
      60_000,
    );
    const id = handle.workflowId;
    // Without the token, or with a body that is not a decision: refused, nothing changes.
    expect(
      (
        await ingest.post(
          `/v1/incidents/${id}/persistence`,
          { decision: 'remove', analyst: 'a' },
          { authorization: '' },
        )
      ).status,
    ).toBe(401);
    const bad = await ingest.post(`/v1/incidents/${id}/persistence`, { decision: 'delete', analyst: 'alice' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/decision/);
    const forged = await ingest.post(`/v1/incidents/${id}/persistence`, {
      decision: 'remove',
      analyst: 'alice',
      identity: { issuer: 'https://evil.example', subject: 'root' },
    });
    expect(forged.status).toBe(400);
    expect(h.host.calls.some((c) => c.activity === 'removePersistenceEntries')).toBe(false);

    const removal = await ingest.post(`/v1/incidents/${id}/persistence`, { decision: 'remove', analyst: 'alice' });
    expect(removal.status).toBe(200);
    expect(((await removal.json()) as { proposals: unknown[] }).proposals).toEqual([
      expect.objectContaining({ id: 'p1', state: 'approved' }),
    ]);
    expect(IncidentStatusSchema.parse(await handle.result()).persistenceRemoval?.proposals[0]?.state).toBe('removed');

    const nothing = await ingest.post(`/v1/incidents/${id}/restore`, { analyst: 'alice' });
    expect(nothing.status).toBe(400);
    expect(((await nothing.json()) as { message: string }).message).toMatch(/name what to restore/);
    const started = await ingest.post(`/v1/incidents/${id}/restore`, {
      analyst: 'alice',
      files: 'all',
      persistence: ['p1'],
    });
    expect(started.status).toBe(202);
    const { workflowId: restore } = (await started.json()) as { workflowId: string };
    expect(restore.startsWith(`${id}.restore-`)).toBe(true);
    const followed = await waitFor(
      async () => (await ingest.get(`/v1/restores/${restore}`)).json() as Promise<{ outcome: string | null }>,
      (s) => s.outcome !== null,
      60_000,
    );
    expect(followed.outcome).toBe('restored');
    expect((await ingest.post('/v1/incidents/no-such-incident/restore', { analyst: 'a', files: 'all' })).status).toBe(
      404,
    );
  });
});
