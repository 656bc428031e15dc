/**
 * The incident API against the real dev server, with the stand-in playbook on a real worker:
 * the status query, and approve / reject through `POST /v1/incidents/:id/review`.
 */
import type { Client } from '@temporalio/client';
import { normalizeAlert } from '../../common/normalize';
import { IncidentStatusSchema } from '../../common/incident-status';
import { SA } from '../../common/names';
import { pendingReviews } from '../../client/ingest/incidents';
import { submitAlert } from '../../client/ingest/submit';
import { PlaybookPolicySchema } from '../../common/playbook';
import { testClient, uniqueTaskQueue } from '../support/temporal';
import { NO_REVIEW_RULE } from './fixtures/review-playbook';
import {
  alertDocument,
  freshHostname,
  jsonOf,
  startStandInIncident,
  startTestIngest,
  terminateRunningOn,
  waitFor,
  withStandInPlaybook,
  type TestIngest,
} from './support';

let client: Client;
let ingest: TestIngest;

beforeAll(async () => {
  client = await testClient();
  ingest = await startTestIngest(client);
});
afterAll(async () => {
  await ingest?.close();
  await client?.connection.close();
});

async function startIncident(document = alertDocument('elastic-alert', freshHostname())): Promise<string> {
  const response = await ingest.post('/v1/alerts', document);
  expect(response.status).toBe(202);
  return (await jsonOf(response)).workflowId;
}

const review = (workflowId: string, body: unknown, headers?: Record<string, string>) =>
  ingest.post(`/v1/incidents/${encodeURIComponent(workflowId)}/review`, body, headers);

describe('GET /v1/incidents/:workflowId', () => {
  it('answers with the status query: phase, verdict, score, reasons, plan, pending review', async () => {
    const document = alertDocument('sysmon-1', freshHostname());
    const workflowId = await startIncident(document);
    await withStandInPlaybook(ingest.taskQueue, async () => {
      const response = await ingest.get(`/v1/incidents/${workflowId}`);
      expect(response.status).toBe(200);
      const status = IncidentStatusSchema.parse(await jsonOf(response));
      expect(status).toMatchObject({
        workflowId,
        alert: normalizeAlert(document),
        phase: 'awaiting-review',
        decision: { verdict: 'suspicious', score: 55 },
        review: { status: 'pending' },
      });
      expect(status.decision?.reasons.map((r) => r.code)).toEqual(['unsigned-user-writable', 'shell-child']);
    });
  });

  it('needs the bearer token, and says 404 for an unknown incident', async () => {
    const workflowId = await startIncident();
    expect((await ingest.get(`/v1/incidents/${workflowId}`, {})).status).toBe(401);
    const missing = await ingest.get('/v1/incidents/spawnguard-nosuchhost-1-2');
    expect(missing.status).toBe(404);
    expect((await jsonOf(missing)).message).toMatch(/no such incident/);
  });
});

describe('the pending-review list', () => {
  it('still comes back when an incident cannot answer: its status query fails and says why', async () => {
    const taskQueue = uniqueTaskQueue('orphaned-review');
    const workflowId = await startStandInIncident(client, taskQueue);
    try {
      await withStandInPlaybook(
        taskQueue,
        () =>
          waitFor(
            () => pendingReviews(client, { deadlineMs: 5_000 }),
            (reviews) => reviews.some((r) => r.workflowId === workflowId && r.status?.review?.status === 'pending'),
          ),
        { leaveRunning: true },
      );
      // The worker has stopped: nothing answers the query, and the list says so instead of waiting.
      const reviews = await pendingReviews(client, { deadlineMs: 1_500 });
      const orphan = reviews.find((r) => r.workflowId === workflowId);
      expect(orphan).toMatchObject({ workflowId, verdict: 'suspicious', riskScore: 55 });
      expect(orphan?.status).toBeUndefined();
      expect(orphan?.statusError).toMatch(/did not answer in time|ran out/);
    } finally {
      await terminateRunningOn(taskQueue);
    }
  });
});

describe('POST /v1/incidents/:workflowId/review', () => {
  it('approves: the incident moves past the review and records the analyst', async () => {
    const workflowId = await startIncident();
    await withStandInPlaybook(ingest.taskQueue, async () => {
      const response = await review(workflowId, { decision: 'approve', analyst: 'alice', comment: 'known-bad macro' });
      expect(response.status).toBe(200);
      expect(await jsonOf(response)).toMatchObject({
        status: 'approved',
        analyst: 'alice',
        comment: 'known-bad macro',
        via: 'update',
      });
      const result = IncidentStatusSchema.parse(await client.workflow.getHandle(workflowId).result());
      expect(result).toMatchObject({
        phase: 'closed',
        outcome: 'remediated',
        review: { status: 'approved', analyst: 'alice' },
      });
    });
    const description = await client.workflow.getHandle(workflowId).describe();
    expect(description.typedSearchAttributes.get(SA.ReviewStatus)).toBe('approved');
  });

  it('rejects: the incident closes as a false positive', async () => {
    const workflowId = await startIncident();
    await withStandInPlaybook(ingest.taskQueue, async () => {
      const response = await review(workflowId, { decision: 'reject', analyst: 'bob' });
      expect(response.status).toBe(200);
      const result = IncidentStatusSchema.parse(await client.workflow.getHandle(workflowId).result());
      expect(result).toMatchObject({
        outcome: 'closed-false-positive',
        review: { status: 'rejected', analyst: 'bob', comment: null },
      });
    });
  });

  it('refuses a review without an analyst or with an unknown decision, and the review stays pending', async () => {
    const workflowId = await startIncident();
    await withStandInPlaybook(ingest.taskQueue, async () => {
      const noAnalyst = await review(workflowId, { decision: 'approve', analyst: '   ' });
      expect(noAnalyst.status).toBe(400);
      expect((await jsonOf(noAnalyst)).message).toMatch(/analyst is required/);
      const badDecision = await review(workflowId, { decision: 'maybe', analyst: 'alice' });
      expect(badDecision.status).toBe(400);
      expect((await jsonOf(badDecision)).message).toMatch(/^decision:/);
      expect((await review(workflowId, { decision: 'approve', analyst: 'alice' }, {})).status).toBe(401);
      const status = await jsonOf(await ingest.get(`/v1/incidents/${workflowId}`));
      expect(status.review.status).toBe('pending');
    });
  });

  it("answers 409 with the validator's reason when no review is pending", async () => {
    const document = alertDocument('canonical', freshHostname());
    document.ruleName = NO_REVIEW_RULE;
    const workflowId = await startIncident(document);
    await withStandInPlaybook(ingest.taskQueue, async () => {
      const response = await review(workflowId, { decision: 'approve', analyst: 'alice' });
      expect(response.status).toBe(409);
      expect((await jsonOf(response)).message).toMatch(/no review is pending/);
    });
  });
});

describe('a decision for a closed incident', () => {
  it('answers 409 saying when and how it closed, and who reviewed it; an unknown incident stays 404', async () => {
    const workflowId = await startIncident();
    await withStandInPlaybook(ingest.taskQueue, async () => {
      expect((await review(workflowId, { decision: 'reject', analyst: 'bob' })).status).toBe(200);
      await client.workflow.getHandle(workflowId).result();
    });
    const closed = IncidentStatusSchema.parse(await client.workflow.getHandle(workflowId).result());
    const { closeTime } = await client.workflow.getHandle(workflowId).describe();

    const late = await review(workflowId, { decision: 'approve', analyst: 'alice' });
    expect(late.status).toBe(409);
    expect(await jsonOf(late)).toEqual({
      error: 'incident-closed',
      message:
        `incident ${workflowId} has closed at ${closeTime!.toISOString()} as closed-false-positive, ` +
        `rejected by bob at ${closed.review.decidedAt}; no review is pending`,
    });
    expect((await review(`${workflowId}-nonexistent`, { decision: 'approve', analyst: 'alice' })).status).toBe(404);
  });
});

describe('a report that arrives after its incident', () => {
  it('completed: an exact re-send of its alert is answered with the completed run, and starts nothing', async () => {
    const hostname = freshHostname();
    const document = alertDocument('elastic-alert', hostname);
    const workflowId = await startIncident(document);
    await withStandInPlaybook(ingest.taskQueue, async () => {
      expect((await review(workflowId, { decision: 'reject', analyst: 'bob' })).status).toBe(200);
      await client.workflow.getHandle(workflowId).result();
    });
    const { runId } = await client.workflow.getHandle(workflowId).describe();
    // Within the ingest's memory of recent alerts, the answer comes from there…
    const late = await ingest.post('/v1/alerts', document);
    expect(late.status).toBe(202);
    expect(await jsonOf(late)).toMatchObject({ workflowId, deduplicated: true });
    // …and past it (another replica, a restart) from the closed incident, which knows the alert.
    const policy = PlaybookPolicySchema.parse({});
    const resent = await submitAlert(client, normalizeAlert(document), { policy, taskQueue: ingest.taskQueue });
    expect(resent).toEqual({ workflowId, runId, deduplicated: true, closed: true });
    const runs = [];
    for await (const run of client.workflow.list({ query: `WorkflowId STARTS_WITH "${workflowId}"` })) runs.push(run);
    expect(runs).toHaveLength(1);
  });

  it('closed as a false positive: a new alert for it re-opens the incident, linked to the closed one', async () => {
    const hostname = freshHostname();
    const workflowId = await startIncident(alertDocument('elastic-alert', hostname));
    await withStandInPlaybook(ingest.taskQueue, async () => {
      expect((await review(workflowId, { decision: 'reject', analyst: 'bob' })).status).toBe(200);
      await client.workflow.getHandle(workflowId).result();
    });
    const closed = await client.workflow.getHandle(workflowId).describe();
    // Another sensor's alert about the same pair: new evidence after the analyst closed it.
    const fresh = alertDocument('security-4688', hostname);
    const reopened = await jsonOf(await ingest.post('/v1/alerts', fresh));
    expect(reopened).toMatchObject({
      workflowId: `${workflowId}.reopened-2`,
      deduplicated: false,
      reopened: workflowId,
    });
    const described = await client.workflow.getHandle(reopened.workflowId as string).describe();
    expect(described.memo?.reopenedFrom).toEqual({
      workflowId,
      runId: closed.runId,
      outcome: 'closed-false-positive',
      closedAt: expect.any(String),
    });
    // The same new alert sent again is a duplicate of the re-opened incident, not a third one.
    const again = await jsonOf(await ingest.post('/v1/alerts', fresh));
    expect(again).toMatchObject({ workflowId: `${workflowId}.reopened-2`, deduplicated: true });
    await client.workflow.getHandle(reopened.workflowId as string).terminate('test done');
  });

  it('was terminated: starts it anew', async () => {
    const hostname = freshHostname();
    const workflowId = await startIncident(alertDocument('elastic-alert', hostname));
    const first = await client.workflow.getHandle(workflowId).describe();
    await client.workflow.getHandle(workflowId).terminate('operator stopped it');
    const again = await jsonOf(await ingest.post('/v1/alerts', alertDocument('sysmon-1', hostname)));
    expect(again).toMatchObject({ workflowId, deduplicated: false });
    expect(again.runId).not.toBe(first.runId);
    expect((await client.workflow.getHandle(workflowId).describe()).status.name).toBe('RUNNING');
  });
});
