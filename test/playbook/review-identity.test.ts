/**
 * The real playbook keeps who decided, as the sign-in provider vouched: the identity in the review
 * update is in the incident's status (and so in its report and the review page), and Temporal
 * records the analyst as the update's sender.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import { reviewIncident } from '../../client/ingest/incidents';
import { historyIdentity } from '../../client/review/oidc';
import type { IncidentStatus } from '../../common/incident-status';
import { createHarness, statusOf, waitFor } from '../support/playbook-harness';
import { suspiciousScenario } from '../support/scenarios';
import { testClient } from '../support/temporal';

it('an approval with a verified identity is recorded in the status and as the sender in history', async () => {
  const client = await testClient();
  const h = await createHarness(client);
  const identity = {
    issuer: 'https://login.example.test',
    subject: 'alice',
    name: 'Alice Analyst',
    email: 'alice@example.test',
  };
  const result: IncidentStatus = await h.run(async () => {
    const handle = await h.start(suspiciousScenario(h), h.policy());
    await waitFor(
      () => statusOf(handle),
      (s) => s.phase === 'awaiting-review',
    );
    const state = await reviewIncident(
      client,
      handle.workflowId,
      { decision: 'approve', analyst: 'Alice Analyst', identity },
      10_000,
      undefined,
      historyIdentity(identity),
    );
    expect(state).toMatchObject({ status: 'approved', analyst: 'Alice Analyst', identity });
    return (await handle.result()) as IncidentStatus;
  });
  expect(result.review).toMatchObject({ status: 'approved', analyst: 'Alice Analyst', identity });
  const history = await client.workflow.getHandle(result.workflowId).fetchHistory();
  const accepted = (history.events ?? []).find((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
  expect(accepted?.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.meta?.identity).toBe(
    'Alice Analyst <alice@example.test> (oidc alice @ https://login.example.test)',
  );
  // The review deadline's timer says what it is in the Temporal UI.
  const timer = (history.events ?? []).find((e) => e.timerStartedEventAttributes);
  const summary = timer?.userMetadata?.summary;
  expect(summary && defaultPayloadConverter.fromPayload(summary)).toMatch(
    /^Review deadline: \d{4}-\d{2}-\d{2}T[\d:.]+Z \(then escalate\)$/,
  );
  await client.connection.close();
});
