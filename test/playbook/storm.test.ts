/**
 * Bounded incidents under storms (issue 15 item 2): 20,000 alerts — a few hundred distinct ids,
 * each sent many times, as a rule firing on every event of a beaconing process does — into one
 * incident waiting for review, through the ingest's own submit path on the real dev server. Every
 * alert is acknowledged, the counts are exact, no run's history passes the stated bound (the wait
 * continues as new, carrying the incident and its deadline), and the review still completes.
 */
import type { Client } from '@temporalio/client';
import type { CanonicalAlert } from '../../common/alert';
import { incidentWorkflowId } from '../../common/incident';
import type { IncidentStatus } from '../../common/incident-status';
import { submitAlert, type Submission } from '../../client/ingest/submit';
import { createHarness, statusOf, waitFor } from '../support/playbook-harness';
import { suspiciousScenario } from '../support/scenarios';
import { testClient } from '../support/temporal';

let client: Client;
beforeAll(async () => {
  client = await testClient();
});

const TOTAL = 20_000;
const DISTINCT = 600;
/** The policy's event bound: a run continues as new once its history reaches it. */
const EVENT_BOUND = 500;
/**
 * A run may pass the bound by the signals that arrive while its last workflow tasks run (24 senders
 * keep sending while the run hands over): at most as many again on this machine under full load.
 */
const STATED_BOUND = 2 * EVENT_BOUND;

async function inBatches<T>(count: number, concurrency: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let index = next++; index < count; index = next++) results[index] = await task(index);
    }),
  );
  return results;
}

it('20,000 duplicate alerts into an incident waiting for review: all acknowledged, exact counts, bounded runs, review completes', async () => {
  const h = await createHarness(client);
  const first = suspiciousScenario(h);
  const policy = h.policy({ historyEventBound: EVENT_BOUND });
  const workflowId = incidentWorkflowId(first);
  let deadline: string | null = null;

  const result: IncidentStatus = await h.run(async () => {
    const started = await submitAlert(client, first, { policy, taskQueue: h.taskQueue, workflowId });
    expect(started.deduplicated).toBe(false);
    const handle = client.workflow.getHandle(workflowId);
    const waiting = await waitFor(
      () => statusOf(handle),
      (s) => s.phase === 'awaiting-review',
    );
    deadline = waiting.review.deadline;

    // The storm: alert i carries id storm-(i mod 600); the starting alert's own id comes back too.
    const copy = (index: number): CanonicalAlert => ({
      ...first,
      alertId: index % 97 === 0 ? first.alertId : `storm-${index % DISTINCT}`,
      ruleName: `beacon rule ${index % 7}`,
    });
    const submissions: Submission[] = await inBatches(TOTAL, 24, (index) =>
      submitAlert(client, copy(index), { policy, taskQueue: h.taskQueue, workflowId }),
    );
    // Every alert acknowledged, as a duplicate of the one open incident.
    expect(submissions).toHaveLength(TOTAL);
    expect(submissions.filter((s) => s.workflowId === workflowId && s.deduplicated && !s.closed)).toHaveLength(TOTAL);

    // The incident counts each distinct later alert exactly once, and keeps the first and latest ten.
    const counted = await waitFor(
      () => statusOf(handle),
      (s) => s.duplicateCount === DISTINCT,
      120_000,
    );
    expect(counted.duplicates).toHaveLength(20);
    expect(new Set(counted.duplicates.map((d) => d.alertId)).size).toBe(20);
    expect(counted.duplicates.map((d) => d.alertId)).not.toContain(first.alertId);
    expect(counted.review.status).toBe('pending');

    // A resend after the wait continued as new is recognised by the carried ids: still exact.
    await submitAlert(client, copy(1), { policy, taskQueue: h.taskQueue, workflowId });
    await submitAlert(client, { ...first, alertId: 'storm-one-more' }, { policy, taskQueue: h.taskQueue, workflowId });
    await waitFor(
      () => statusOf(handle),
      (s) => s.duplicateCount === DISTINCT + 1,
    );

    await handle.signal('approve', { analyst: 'alice', comment: 'contained the beacon' });
    return (await handle.result()) as IncidentStatus;
  });

  expect(result.outcome).toBe('remediated');
  expect(result.review).toMatchObject({ status: 'approved', analyst: 'alice' });
  expect(result.duplicateCount).toBe(DISTINCT + 1);
  // The deadline carried over unchanged: the review window did not restart with each run.
  expect(deadline).not.toBeNull();
  expect(result.review.deadline).toBe(deadline);
  const runs: { runId: string; historyLength: number }[] = [];
  for await (const execution of client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) {
    runs.push({ runId: execution.runId, historyLength: execution.historyLength ?? 0 });
  }
  expect(runs.length).toBeGreaterThan(1);
  for (const run of runs) expect(run).toEqual({ runId: run.runId, historyLength: expect.any(Number) });
  const longest = Math.max(...runs.map((r) => r.historyLength));
  expect(longest).toBeLessThanOrEqual(STATED_BOUND);
  console.log(
    `storm: ${TOTAL} alerts (${DISTINCT} distinct ids) → ${runs.length} runs, longest history ${longest} events (bound ${EVENT_BOUND}, stated ${STATED_BOUND})`,
  );
}, 600_000);
