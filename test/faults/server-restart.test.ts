/**
 * The Temporal server itself goes away mid-flight: a file-backed dev server (SQLite) is stopped
 * while incidents wait for review and one is in the middle of remediation, then started again on
 * the same port and file. Every incident resumes where it was and completes, and the ingest service
 * answers 503 (never 202) while the server is down and accepts alerts again once it is back.
 */
import { Client, Connection } from '@temporalio/client';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncidentStatus } from '../../common/incident-status';
import { freePort, startDevServer, type DevServer } from '../../client/dev-server';
import { alertDocument, freshHostname, startTestIngest } from '../ingest/support';
import { createHarness, statusOf, waitFor, type Harness } from '../support/playbook-harness';
import { maliciousScenario, suspiciousScenario } from '../support/scenarios';

jest.setTimeout(180_000);

let directory: string;
let server: DevServer | undefined;
afterAll(async () => {
  await server?.stop();
  rmSync(directory, { recursive: true, force: true });
});

it('running incidents survive a server stop and restart, and complete', async () => {
  directory = mkdtempSync(join(tmpdir(), 'spawnguard-restart-'));
  const port = await freePort();
  const dbFilename = join(directory, 'temporal.sqlite');
  const start = () => startDevServer({ port, headless: true, dbFilename });
  server = await start();
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });

  const ingest = await startTestIngest(client, { temporalDeadlineMs: 3_000 });
  // Each waiting incident on a host of its own, so the three remediations never share a simulated host.
  const waiting = await Promise.all([1, 2, 3].map(() => createHarness(client, { address: server!.address })));
  const remediating = await createHarness(client, { address: server.address });
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let held = false;
  remediating.host.beforeActivity = async (activity) => {
    if (activity === 'stopProcess' && !held) {
      held = true;
      await gate;
    }
  };

  const [first, second, third] = waiting as [Harness, Harness, Harness];
  const results = await first.run(() =>
    second.run(() =>
      third.run(() =>
        remediating.run(async () => {
          const reviews = await Promise.all(waiting.map((h) => h.start(suspiciousScenario(h), h.policy())));
          const malicious = await remediating.start(maliciousScenario(remediating), remediating.policy());
          for (const handle of reviews)
            await waitFor(
              () => statusOf(handle),
              (s) => s.phase === 'awaiting-review',
            );
          await waitFor(
            async () => held,
            (v) => v,
          );

          await server!.stop();
          // While Temporal is down the ingest service acknowledges nothing: 503 with Retry-After.
          const whileDown = await ingest.post('/v1/alerts', alertDocument('sysmon-1', freshHostname()));
          expect(whileDown.status).toBe(503);
          expect(whileDown.headers.get('retry-after')).toMatch(/^\d+$/);
          server = await start();
          release();
          // Once it is back, the same service (same client connection) accepts alerts again.
          const afterRestart = await waitFor(
            () => ingest.post('/v1/alerts', alertDocument('sysmon-1', freshHostname())).then((r) => r.status),
            (status) => status === 202,
            60_000,
          );
          expect(afterRestart).toBe(202);

          for (const handle of reviews) {
            await waitFor(
              () =>
                handle.signal('approve', { analyst: 'alice' }).then(
                  () => true,
                  () => false,
                ),
              (sent) => sent,
              60_000,
            );
          }
          return Promise.all([...reviews, malicious].map((handle) => handle.result() as Promise<IncidentStatus>));
        }),
      ),
    ),
  );

  expect(results.map((r) => r.outcome)).toEqual(['remediated', 'remediated', 'remediated', 'remediated']);
  expect(results.slice(0, 3).map((r) => r.review.analyst)).toEqual(['alice', 'alice', 'alice']);
  expect(waiting.map((h) => h.central.reports.length)).toEqual([1, 1, 1]);
  expect(remediating.central.reports).toHaveLength(1);
  await ingest.close();
  await connection.close();
});
