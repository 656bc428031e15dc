/**
 * An alert storm: thousands of posts, most of them duplicates of a few incidents, arriving
 * concurrently. Exactly the distinct incidents exist afterwards, every 202 names a workflow run that
 * exists, and no alert is lost (each distinct alert id is recorded on its incident).
 */
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { alertDocument, freshHostname, startTestIngest, type TestIngest } from '../ingest/support';
import { testClient } from '../support/temporal';

jest.setTimeout(180_000);

const INCIDENTS = 40;
const POSTS = 2_000;
const CONCURRENCY = 50;

let client: Client;
let ingest: TestIngest;
beforeAll(async () => {
  client = await testClient();
  ingest = await startTestIngest(client);
});
afterAll(() => ingest.close());

/** Incident `i` is reported by 5 different rules (5 alert ids), each sent many times. */
function incidentDocuments(hostname: string): Record<string, unknown>[] {
  return [1, 2, 3, 4, 5].map((rule) => {
    const doc = alertDocument('sysmon-1', hostname) as { winlog: { record_id: number } };
    doc.winlog.record_id = 1_000 + rule;
    return doc as unknown as Record<string, unknown>;
  });
}

it(`${POSTS} posts over ${INCIDENTS} incidents → exactly ${INCIDENTS} workflows, every 202 backed by a run`, async () => {
  const hosts = Array.from({ length: INCIDENTS }, () => freshHostname());
  const documents = hosts.map(incidentDocuments);
  const answers: { incident: number; status: number; workflowId?: string; runId?: string; deduplicated?: boolean }[] =
    [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < POSTS) {
        const post = next++;
        const incident = post % INCIDENTS;
        const response = await ingest.post('/v1/alerts', documents[incident]![Math.floor(post / INCIDENTS) % 5]);
        const body = (await response.json()) as { workflowId?: string; runId?: string; deduplicated?: boolean };
        answers.push({ incident, status: response.status, ...body });
      }
    }),
  );

  expect(answers).toHaveLength(POSTS);
  expect(answers.filter((a) => a.status !== 202)).toEqual([]);
  const workflowIds = new Set(answers.map((a) => a.workflowId));
  expect(workflowIds.size).toBe(INCIDENTS);
  // One incident ↔ one workflow ↔ one run, whichever post answered.
  for (let incident = 0; incident < INCIDENTS; incident++) {
    const mine = answers.filter((a) => a.incident === incident);
    expect(new Set(mine.map((a) => `${a.workflowId}/${a.runId}`)).size).toBe(1);
    expect(mine.filter((a) => a.deduplicated === false)).toHaveLength(1);
  }
  // Every acknowledged run exists in Temporal, on the ingest's queue, with the incident's host.
  const descriptions = await Promise.all(
    [...new Set(answers.map((a) => `${a.workflowId}/${a.runId}`))].map(async (key) => {
      const [workflowId, runId] = key.split('/') as [string, string];
      const description = await client.workflow.getHandle(workflowId, runId).describe();
      return { workflowId, runId: description.runId, taskQueue: description.taskQueue };
    }),
  );
  expect(descriptions).toHaveLength(INCIDENTS);
  expect(descriptions.every((d) => d.taskQueue === ingest.taskQueue)).toBe(true);

  // No alert lost: each incident's history holds each of its 5 alert ids (copies of one alert may
  // be absorbed by the recent-duplicate cache; distinct alerts never are).
  for (const { workflowId } of descriptions) {
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    // The alert that started the incident is in its input; every later one came as `alertReceived`.
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    const received = new Set([
      (defaultPayloadConverter.fromPayload(started!) as { alert: { alertId: string } }).alert.alertId,
      ...(history.events ?? [])
        .map((e) => e.workflowExecutionSignaledEventAttributes)
        .filter((signal) => signal?.signalName === 'alertReceived')
        .map(
          (signal) =>
            (defaultPayloadConverter.fromPayload(signal!.input!.payloads![0]!) as { alertId: string }).alertId,
        ),
    ]);
    const computer = workflowId.split('-')[1];
    expect([...received].sort()).toEqual(
      [1, 2, 3, 4, 5].map((r) =>
        expect.stringMatching(new RegExp(`^sysmon-${computer}\\.contoso\\.local-${1000 + r}$`, 'i')),
      ),
    );
  }
});
