/**
 * Idempotent review (issue 15 item 5) on the real dev server: a retried approval re-attaches to the
 * update already made (same result, one update in history); an approval or rejection that arrives
 * when no review is open is recorded in the status, never applied and never dropped.
 */
import type { Client } from '@temporalio/client';
import type { IncidentStatus } from '../../common/incident-status';
import { reviewIncident, reviewUpdateId } from '../../client/ingest/incidents';
import { createHarness, statusOf, waitFor, withHeldReport } from '../support/playbook-harness';
import { suspiciousScenario } from '../support/scenarios';
import { testClient } from '../support/temporal';

let client: Client;
beforeAll(async () => {
  client = await testClient();
});

describe('review', () => {
  it('a retried approval gets the same answer and is one update in history', async () => {
    const h = await createHarness(client);
    const alert = suspiciousScenario(h);
    const result: IncidentStatus = await h.run(async () => {
      const handle = await h.start(alert, h.policy());
      await waitFor(
        () => statusOf(handle),
        (s) => s.phase === 'awaiting-review',
      );
      const approval = { decision: 'approve' as const, analyst: 'alice', comment: 'known bad' };
      // The first call's answer was lost (a 503 on the way back): the analyst retries, twice at once.
      const firstAnswer = await reviewIncident(client, handle.workflowId, approval);
      const retries = await Promise.all([
        reviewIncident(client, handle.workflowId, approval),
        reviewIncident(client, handle.workflowId, { ...approval, analyst: ' alice ' }),
      ]);
      expect(retries).toEqual([firstAnswer, firstAnswer]);
      expect(firstAnswer).toMatchObject({ status: 'approved', analyst: 'alice', via: 'update' });
      // Another analyst's different decision is a different update: refused, the review is decided.
      const refusal = await reviewIncident(client, handle.workflowId, { decision: 'reject', analyst: 'bob' }).then(
        () => null,
        (err: { cause?: Error }) => err.cause?.message ?? String(err),
      );
      expect(refusal).toMatch(/no review is pending/);
      const done = (await handle.result()) as IncidentStatus;
      const history = await handle.fetchHistory();
      const accepted = (history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
      expect(accepted).toHaveLength(1);
      expect(accepted[0]?.workflowExecutionUpdateAcceptedEventAttributes?.protocolInstanceId).toBe(
        reviewUpdateId(handle.workflowId, approval),
      );
      return done;
    });
    expect(result.outcome).toBe('remediated');
  });

  it('an approve signal before the verdict, and a reject after the decision, are recorded, not applied', async () => {
    const h = await createHarness(client);
    const alert = suspiciousScenario(h);
    // The report waits until the late approval is in, so the incident is still open to take it.
    const held = withHeldReport(h.central);
    const result: IncidentStatus = await h.run(
      async () => {
        const handle = await h.start(alert, h.policy());
        // The host worker is not running yet: the incident is still investigating.
        await handle.signal('approve', { analyst: 'eager-eve', comment: 'looks bad' });
        await waitFor(
          () => statusOf(handle),
          (s) => (s.review.notApplied ?? []).length === 1,
        );
        const early = await statusOf(handle);
        expect(early.review.status).toBe('not-needed');
        expect(early.review.notApplied?.[0]).toMatchObject({
          decision: 'approve',
          analyst: 'eager-eve',
          comment: 'looks bad',
          via: 'signal',
          why: expect.stringMatching(/before the verdict/),
        });
        const host = await h.startHostWorker();
        try {
          await waitFor(
            () => statusOf(handle),
            (s) => s.phase === 'awaiting-review',
          );
          // The early approval did not approve: the review is open and waits for someone.
          expect((await statusOf(handle)).review.status).toBe('pending');
          await handle.signal('reject', { analyst: 'alice', comment: 'admin tool' });
          // Bob approves once alice's rejection is recorded (sent at once, both could be handled in
          // one workflow task, before the report is scheduled).
          await waitFor(
            () => statusOf(handle),
            (s) => s.review.status === 'rejected',
          );
          await handle.signal('approve', { analyst: 'bob' });
          await waitFor(
            () => statusOf(handle),
            (s) => (s.review.notApplied ?? []).length === 2,
          );
          held.release();
          return (await handle.result()) as IncidentStatus;
        } finally {
          host.worker.shutdown();
          await host.running;
        }
      },
      { hostWorker: false, centralActivities: held.activities },
    );
    expect(result.outcome).toBe('closed-false-positive');
    expect(result.review).toMatchObject({ status: 'rejected', analyst: 'alice' });
    expect(result.review.notApplied?.map((n) => [n.decision, n.analyst])).toEqual([
      ['approve', 'eager-eve'],
      ['approve', 'bob'],
    ]);
    expect(result.review.notApplied?.[1]?.why).toMatch(/already rejected by alice/);
    // The report, composed when the review was decided, tells the SOC about the early approval.
    expect(h.central.reports.at(-1)?.review.notApplied?.map((n) => n.analyst)).toEqual(['eager-eve']);
  });
});
