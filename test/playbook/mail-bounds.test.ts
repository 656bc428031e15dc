/**
 * Mail that cannot go out never holds an incident, and never goes out late (issue 15 item 7), on the
 * real dev server: a report the mail server keeps refusing gives up after the policy's notification
 * timeout with a clear "notification failed"; a review request still retrying when the analyst
 * decides is withdrawn.
 */
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { IncidentStatus } from '../../common/incident-status';
import {
  createHarness,
  createTestCentralActivities,
  statusOf,
  waitFor,
  withHeldReport,
} from '../support/playbook-harness';
import { maliciousScenario, suspiciousScenario } from '../support/scenarios';
import { testClient } from '../support/temporal';

let client: Client;
beforeAll(async () => {
  client = await testClient();
});

const smtpDown = () => ApplicationFailure.retryable('connect ECONNREFUSED 192.0.2.25:25', 'SmtpUnavailable');

it('a report the mail server never takes: the incident closes after the notification timeout, saying so', async () => {
  const h = await createHarness(client);
  const alert = maliciousScenario(h);
  let attempts = 0;
  const centralActivities = {
    ...createTestCentralActivities(h.central),
    sendIncidentReport: async () => {
      attempts += 1;
      throw smtpDown();
    },
  };
  const result: IncidentStatus = await h.run(
    async () => (await h.start(alert, h.policy({ notificationTimeout: '5s' }))).result(),
    { centralActivities },
  );
  expect(result.outcome).toBe('remediated');
  expect(result.phase).toBe('closed');
  expect(result.reportSent).toBe(false);
  expect(result.reportError).toMatch(/^notification failed: the report was not delivered within 5s/);
  expect(attempts).toBeGreaterThanOrEqual(2);
}, 60_000);

it('a review request still retrying when the analyst decides is withdrawn, never sent late', async () => {
  const h = await createHarness(client);
  const alert = suspiciousScenario(h);
  const held = withHeldReport(h.central);
  let requestAttempts = 0;
  const centralActivities = {
    ...held.activities,
    sendReviewRequest: async () => {
      requestAttempts += 1;
      throw smtpDown();
    },
  };
  const result: IncidentStatus = await h.run(
    async () => {
      const handle = await h.start(alert, h.policy());
      await waitFor(
        () => statusOf(handle),
        (s) => s.phase === 'awaiting-review',
      );
      await waitFor(
        async () => requestAttempts,
        (n) => n >= 1,
      );
      await handle.signal('approve', { analyst: 'alice' });
      await waitFor(
        () => statusOf(handle),
        (s) => s.phase === 'notifying',
      );
      // The incident is still open (its report waits): the request's retries (2 s, 4 s, …) would
      // have come by now, had it not been withdrawn.
      const afterDecision = requestAttempts;
      await new Promise((resolve) => setTimeout(resolve, 7_000));
      expect(requestAttempts).toBe(afterDecision);
      const history = await handle.fetchHistory();
      const cancelRequested = (history.events ?? []).filter((e) => e.activityTaskCancelRequestedEventAttributes);
      expect(cancelRequested).toHaveLength(1);
      held.release();
      return (await handle.result()) as IncidentStatus;
    },
    { centralActivities },
  );
  expect(result.outcome).toBe('remediated');
  expect(h.central.reviewRequests).toEqual([]);
}, 60_000);
