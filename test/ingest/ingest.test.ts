/**
 * The ingest service against the real dev server: every format starts its incident, duplicates of
 * one incident attach to it, a storm of copies starts one workflow, bad input starts nothing, and a
 * Temporal that cannot be reached never gets a 202.
 */
import type { Client } from '@temporalio/client';
import { DEFAULT_BODY_LIMIT } from '../../client/ingest/app';
import { lazyClient } from '../../client/ingest/temporal';
import { normalizeAlert } from '../../common/normalize';
import { incidentWorkflowId } from '../../common/incident';
import { SA, WORKFLOW_TYPES } from '../../common/names';
import { freePort } from '../../client/dev-server';
import { testClient } from '../support/temporal';
import {
  alertDocument,
  FORMATS,
  freshHostname,
  jsonOf,
  startTestIngest,
  workflowExists,
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

/**
 * The alerts recorded on an incident's workflow, in order: the one that started it (in the start
 * input) and each later one, delivered with the `alertReceived` signal.
 */
async function alertsRecordedOn(workflowId: string): Promise<string[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const decode = (payload: { data?: Uint8Array | null } | undefined) =>
    payload?.data ? JSON.parse(Buffer.from(payload.data).toString('utf8')) : {};
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  const signalled = (history.events ?? [])
    .map((e) => e.workflowExecutionSignaledEventAttributes)
    .filter((signal) => signal?.signalName === 'alertReceived')
    .map((signal) => decode(signal!.input?.payloads?.[0]).alertId as string);
  return [decode(started).alert?.alertId as string, ...signalled];
}

describe('POST /v1/alerts', () => {
  it.each(FORMATS)('accepts a %s document and starts its incident', async (format) => {
    const document = alertDocument(format, freshHostname());
    const alert = normalizeAlert(document);
    const response = await ingest.post('/v1/alerts', document);
    expect(response.status).toBe(202);
    const body = await jsonOf(response);
    expect(body).toEqual({ workflowId: incidentWorkflowId(alert), runId: expect.any(String), deduplicated: false });

    const description = await client.workflow.getHandle(body.workflowId).describe();
    expect(description.type).toBe(WORKFLOW_TYPES.playbook);
    expect(description.runId).toBe(body.runId);
    expect(description.status.name).toBe('RUNNING');
    expect(description.taskQueue).toBe(ingest.taskQueue);
    expect(description.typedSearchAttributes.get(SA.AlertId)).toBe(alert.alertId);
    expect(description.typedSearchAttributes.get(SA.Hostname)).toBe(alert.host.hostname);
    expect(description.typedSearchAttributes.get(SA.ProcessName)).toBe(alert.child.name);
    expect(description.typedSearchAttributes.get(SA.ParentProcessName)).toBe(alert.parent.name);
    expect(await alertsRecordedOn(body.workflowId)).toEqual([alert.alertId]);
    // The Temporal UI shows what the run is about: its summary and (Markdown) details.
    expect(await description.staticSummary()).toBe(
      `${alert.parent.name} → ${alert.child.name} on ${alert.host.hostname}`,
    );
    const details = await description.staticDetails();
    expect(details).toContain(`alert \`${alert.alertId}\``);
    expect(details).toContain(`- Child: \`${alert.child.executable ?? alert.child.name}\` (PID ${alert.child.pid})`);

    // The structured log ties the alert to its workflow.
    expect(ingest.logs).toContainEqual(
      expect.objectContaining({ alertId: alert.alertId, workflowId: body.workflowId, deduplicated: false }),
    );
  });

  it('accepts a batch and starts one incident per alert', async () => {
    const documents = [
      alertDocument('canonical', freshHostname()),
      alertDocument('ecs-process-event', freshHostname()),
      alertDocument('security-4688', freshHostname()),
    ];
    const response = await fetch(`${ingest.url}/v1/alerts`, {
      method: 'POST',
      // Labelled text/plain, as some webhook senders do: still read as JSON.
      headers: { authorization: `Bearer ${ingest.token}`, 'content-type': 'text/plain; charset=utf-8' },
      body: JSON.stringify(documents),
    });
    expect(response.status).toBe(202);
    const { results } = await jsonOf(response);
    expect(results).toHaveLength(3);
    for (const [index, document] of documents.entries()) {
      expect(results[index]).toEqual({
        workflowId: incidentWorkflowId(normalizeAlert(document)),
        runId: expect.any(String),
        deduplicated: false,
      });
      expect((await client.workflow.getHandle(results[index].workflowId).describe()).status.name).toBe('RUNNING');
    }
  });

  it('attaches a second report of the same incident (another format) to the running workflow and records it', async () => {
    const hostname = freshHostname();
    const first = await jsonOf(await ingest.post('/v1/alerts', alertDocument('elastic-alert', hostname)));
    const sysmon = alertDocument('sysmon-1', hostname);
    const response = await ingest.post('/v1/alerts', sysmon);
    expect(response.status).toBe(202);
    const second = await jsonOf(response);
    expect(second).toEqual({ workflowId: first.workflowId, runId: first.runId, deduplicated: true });
    expect(await alertsRecordedOn(first.workflowId)).toEqual([
      expect.stringMatching(/^elastic-/),
      normalizeAlert(sysmon).alertId,
    ]);
  });

  it('answers 100 concurrent copies of one alert with one workflow, all 202, deduplicated for all but one', async () => {
    const document = alertDocument('canonical', freshHostname());
    const workflowId = incidentWorkflowId(normalizeAlert(document));
    const responses = await Promise.all(Array.from({ length: 100 }, () => ingest.post('/v1/alerts', document)));
    expect(responses.map((r) => r.status)).toEqual(Array(100).fill(202));
    const bodies = await Promise.all(responses.map(jsonOf));
    expect(new Set(bodies.map((b) => b.workflowId))).toEqual(new Set([workflowId]));
    expect(new Set(bodies.map((b) => b.runId)).size).toBe(1);
    expect(bodies.filter((b) => b.deduplicated === false)).toHaveLength(1);
    expect(bodies.filter((b) => b.deduplicated === true)).toHaveLength(99);

    const runs = [];
    for await (const run of client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) runs.push(run);
    expect(runs).toHaveLength(1);
    // The recent-duplicate cache kept the copies away from Temporal: one start, no signal.
    expect(await alertsRecordedOn(workflowId)).toEqual([normalizeAlert(document).alertId]);
  });
});

describe('POST /v1/alerts refuses bad requests and starts nothing', () => {
  it('refuses a request without the bearer token, or with another one', async () => {
    const document = alertDocument('canonical', freshHostname());
    const workflowId = incidentWorkflowId(normalizeAlert(document));
    for (const headers of [
      {} as Record<string, string>,
      { authorization: 'Bearer not-the-token' },
      { authorization: `Basic ${ingest.token}` },
    ]) {
      const response = await ingest.post('/v1/alerts', document, headers);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect((await jsonOf(response)).message).toMatch(/bearer token/);
    }
    expect(await workflowExists(client, workflowId)).toBe(false);
  });

  it('refuses an oversized body with 413', async () => {
    const document = alertDocument('canonical', freshHostname());
    const workflowId = incidentWorkflowId(normalizeAlert(document));
    const padded = { ...document, ruleName: 'x'.repeat(DEFAULT_BODY_LIMIT) };
    const response = await ingest.post('/v1/alerts', padded);
    expect(response.status).toBe(413);
    expect((await jsonOf(response)).message).toBe(`request body is larger than ${DEFAULT_BODY_LIMIT} bytes`);
    expect(await workflowExists(client, workflowId)).toBe(false);
  });

  it('refuses malformed JSON, a non-JSON content type and a body that is not an alert', async () => {
    const malformed = await ingest.post('/v1/alerts', '{"alertId": "x", ');
    expect(malformed.status).toBe(400);
    expect((await jsonOf(malformed)).message).toMatch(/not valid JSON/);

    const send = (contentType: string, body: string) =>
      fetch(`${ingest.url}/v1/alerts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ingest.token}`, 'content-type': contentType },
        body,
      });
    const xml = await send('application/xml', '<alert/>');
    expect(xml.status).toBe(415);
    expect((await jsonOf(xml)).message).toMatch(/application\/json/);
    // text/plain is read as JSON (webhook senders use it), so plain prose is malformed JSON.
    const prose = await send('text/plain', 'powershell.exe started');
    expect(prose.status).toBe(400);
    expect((await jsonOf(prose)).message).toMatch(/not valid JSON/);

    const scalar = await ingest.post('/v1/alerts', '42');
    expect(scalar.status).toBe(400);
    expect((await jsonOf(scalar)).problems).toEqual([expect.objectContaining({ message: 'must be a JSON object' })]);

    const unknown = await ingest.post('/v1/alerts', { hello: 'world' });
    expect(unknown.status).toBe(400);
    expect((await jsonOf(unknown)).message).toMatch(/unrecognized format/);
  });

  it('refuses PID 0, a NUL inside a path and JSON nested 100,000 deep with 400, starting nothing', async () => {
    const idle = alertDocument('canonical', freshHostname());
    (idle.parent as Record<string, unknown>).pid = 0;
    const zero = await ingest.post('/v1/alerts', idle);
    expect(zero.status).toBe(400);
    expect((await jsonOf(zero)).problems).toContainEqual(
      expect.objectContaining({ field: 'parent.pid', message: expect.stringMatching(/PID 0/) }),
    );

    const cut = alertDocument('canonical', freshHostname());
    (cut.child as Record<string, unknown>).executable = 'C:\\Users\\Public\\evil.exe\u0000.txt';
    const nul = await ingest.post('/v1/alerts', cut);
    expect(nul.status).toBe(400);
    expect((await jsonOf(nul)).problems).toContainEqual(
      expect.objectContaining({ field: 'child.executable', message: 'contains a NUL character' }),
    );
    // Neither started an incident: the same alerts made valid would have these workflow ids.
    (idle.parent as Record<string, unknown>).pid = 4312;
    (cut.child as Record<string, unknown>).executable = 'C:\\Users\\Public\\evil.exe';
    for (const document of [idle, cut]) {
      expect(await workflowExists(client, incidentWorkflowId(normalizeAlert(document)))).toBe(false);
    }

    const deep = await ingest.post('/v1/alerts', `${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    expect(deep.status).toBe(400);
    expect((await jsonOf(deep)).message).toBe('the body nests JSON deeper than 64 levels');
    // Brackets inside strings are text, not nesting.
    const brackets = alertDocument('canonical', freshHostname());
    (brackets.child as Record<string, unknown>).commandLine = `cmd.exe /c echo ${'['.repeat(200)}`;
    expect((await ingest.post('/v1/alerts', brackets)).status).toBe(202);
  });

  it('refuses a wrong-typed field, naming it as the sender spelled it', async () => {
    const document = alertDocument('security-4688', freshHostname());
    const workflowId = incidentWorkflowId(normalizeAlert(document));
    (document.winlog as { event_data: Record<string, unknown> }).event_data.NewProcessId = 'not-a-pid';
    const response = await ingest.post('/v1/alerts', document);
    expect(response.status).toBe(400);
    const body = await jsonOf(response);
    expect(body.error).toBe('invalid-alert');
    expect(body.problems).toContainEqual(
      expect.objectContaining({ field: 'winlog.event_data.NewProcessId', format: expect.stringMatching(/4688/) }),
    );
    expect(body.message).toContain('winlog.event_data.NewProcessId');
    expect(await workflowExists(client, workflowId)).toBe(false);

    const canonical = alertDocument('canonical', freshHostname());
    (canonical.child as Record<string, unknown>).pid = '6120';
    const typed = await jsonOf(await ingest.post('/v1/alerts', canonical));
    expect(typed.problems).toContainEqual(expect.objectContaining({ field: 'child.pid' }));
  });

  it('refuses a whole batch when one document is bad, naming its index, and starts none of it', async () => {
    const good = alertDocument('canonical', freshHostname());
    const bad = alertDocument('sysmon-1', freshHostname());
    (bad.winlog as { event_data: Record<string, unknown> }).event_data.ProcessId = 'abc';
    const response = await ingest.post('/v1/alerts', [good, bad]);
    expect(response.status).toBe(400);
    const body = await jsonOf(response);
    expect(body.problems).toContainEqual(expect.objectContaining({ field: '[1].winlog.event_data.ProcessId' }));
    expect(await workflowExists(client, incidentWorkflowId(normalizeAlert(good)))).toBe(false);

    expect((await ingest.post('/v1/alerts', [])).status).toBe(400);
  });
});

describe('when Temporal cannot be reached', () => {
  let offline: TestIngest;
  let offlineClient: Client;
  beforeAll(async () => {
    // A port nothing listens on: every call fails the way a stopped Temporal does.
    offlineClient = lazyClient({ address: `127.0.0.1:${await freePort()}`, namespace: 'default' });
    offline = await startTestIngest(offlineClient, { temporalDeadlineMs: 1_500 });
  });
  afterAll(async () => {
    await offline?.close();
    await offlineClient?.connection.close();
  });

  it('answers 503 with Retry-After and never 202, for single alerts and batches', async () => {
    const document = alertDocument('canonical', freshHostname());
    const responses = await Promise.all([offline.post('/v1/alerts', document), offline.post('/v1/alerts', document)]);
    for (const response of responses) {
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('5');
      expect((await jsonOf(response)).message).toMatch(/Temporal is unreachable/);
    }
    const batch = await offline.post('/v1/alerts', [alertDocument('canonical', freshHostname())]);
    expect(batch.status).toBe(503);
    expect(offline.logs).toContainEqual(
      expect.objectContaining({ msg: expect.stringMatching(/not accepted/), workflowId: expect.any(String) }),
    );
  });

  it('reports not ready, while the process itself is healthy', async () => {
    const ready = await offline.get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.headers.get('retry-after')).toBe('5');
    expect((await offline.get('/healthz')).status).toBe(200);
    expect((await ingest.get('/readyz')).status).toBe(200);
  });
});
