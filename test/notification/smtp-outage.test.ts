/**
 * An SMTP outage does not lose the report: `sendIncidentReport` runs as an activity on a real
 * central worker (createCentralWorker) against the dev server while the mail server is down,
 * Temporal retries it, and once the server is up the report arrives exactly once.
 */
import { NativeConnection } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../common/config';
import { createCentralWorker } from '../../worker/central';
import { testAddress, testClient, uniqueTaskQueue } from '../support/temporal';
import { remediatedIncident } from './incident';
import { freePort, startSmtpSink, type SmtpSink } from './smtp-sink';

async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

it('retries the report through an SMTP outage and delivers it exactly once when the server is back', async () => {
  const port = await freePort();
  const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
  const config = loadConfig({
    TEMPORAL_ADDRESS: testAddress(),
    TEMPORAL_NAMESPACE: namespace,
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: String(port),
    MAIL_TO: 'soc@example.test',
    SPAWNGUARD_TEMPORAL_UI_URL: 'http://temporal.example.test:8233',
  });
  const taskQueue = uniqueTaskQueue('smtp-outage');
  const status = remediatedIncident({ workflowId: `report-outage-${randomUUID()}` });
  const connection = await NativeConnection.connect({ address: testAddress() });
  const client = await testClient();
  let sink: SmtpSink | undefined;
  try {
    const worker = await createCentralWorker({
      config,
      connection,
      taskQueue,
      workflowsPath: require.resolve('./fixtures/report-workflow'),
    });
    await worker.runUntil(async () => {
      const handle = await client.workflow.start('sendReportWorkflow', {
        taskQueue,
        workflowId: status.workflowId,
        args: [status],
      });

      // The mail server is down: the activity fails on the connection and Temporal retries it.
      const failing = await eventually(async () => {
        const pending = (await handle.describe()).raw.pendingActivities?.[0];
        return pending && (pending.attempt ?? 0) >= 3 ? pending : undefined;
      }, 'the third attempt of sendIncidentReport');
      expect(failing.lastFailure?.message).toMatch(new RegExp(`smtp://127\\.0\\.0\\.1:${port} failed: .*ECONNREFUSED`));
      expect(failing.lastFailure?.applicationFailureInfo?.type).toBe('MailDeliveryError');

      sink = await startSmtpSink({ port });
      const { messageId } = await handle.result();

      expect(sink.received).toHaveLength(1);
      const mail = sink.received[0]!;
      expect(mail.parsed.subject).toBe(
        '[spawnguard] MALICIOUS WINWORD.EXE → invoice.exe on WEB01.contoso.local: remediated',
      );
      // One Message-ID for every attempt of this activity, so a duplicate delivery would fold into one.
      const runId = handle.firstExecutionRunId;
      expect(messageId).toMatch(new RegExp(`^<report\\.${runId}\\.[A-Za-z0-9.-]+@spawnguard>$`));
      expect(mail.parsed.messageId).toBe(messageId);
      // Sent from inside the run, the link opens exactly this run's history.
      expect(mail.parsed.text).toContain(
        `http://temporal.example.test:8233/namespaces/${namespace}/workflows/${status.workflowId}/${runId}/history`,
      );

      const history = await handle.fetchHistory();
      const started = history.events?.filter((e) => e.activityTaskStartedEventAttributes) ?? [];
      const completed = history.events?.filter((e) => e.activityTaskCompletedEventAttributes) ?? [];
      expect(completed).toHaveLength(1);
      expect(started[0]?.activityTaskStartedEventAttributes?.attempt).toBeGreaterThanOrEqual(3);
    });
  } finally {
    await sink?.close();
    await connection.close();
  }
});
