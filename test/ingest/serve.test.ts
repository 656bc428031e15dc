/**
 * `spawnguard serve` as it is deployed: a subprocess configured by environment, taking an alert into
 * the real dev server and logging it as JSON lines with the alert id and workflow id.
 */
import type { Client } from '@temporalio/client';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { incidentWorkflowId } from '../../common/incident';
import { normalizeAlert } from '../../common/normalize';
import { freePort } from '../../client/dev-server';
import { testClient } from '../support/temporal';
import { alertDocument, freshHostname, jsonOf, waitFor } from './support';

let client: Client;
beforeAll(async () => {
  client = await testClient();
});
afterAll(async () => {
  await client?.connection.close();
});

describe('spawnguard serve', () => {
  it('serves the ingest API on SPAWNGUARD_PORT with the configured token and logs JSON lines', async () => {
    const port = await freePort();
    const token = 'serve-test-token';
    const child: ChildProcessWithoutNullStreams = spawn(
      process.execPath,
      [join(__dirname, '..', '..', 'bin', 'spawnguard.js'), 'serve', '--host', '127.0.0.1'],
      {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS ?? '',
          TEMPORAL_NAMESPACE: process.env.TEMPORAL_NAMESPACE ?? 'default',
          SPAWNGUARD_PORT: String(port),
          SPAWNGUARD_INGEST_TOKEN: token,
          SPAWNGUARD_LINK_SECRET: 'serve-test-secret',
        },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const document = alertDocument('sysmon-1', freshHostname());
    const workflowId = incidentWorkflowId(normalizeAlert(document));
    try {
      await waitFor(
        async () => stderr,
        (text) => /listening on/.test(text),
      );
      expect(stderr).not.toMatch(/INGEST_TOKEN is not set/);
      const url = `http://127.0.0.1:${port}`;
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);

      const unauthenticated = await fetch(`${url}/v1/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(document),
      });
      expect(unauthenticated.status).toBe(401);

      const response = await fetch(`${url}/v1/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(document),
      });
      expect(response.status).toBe(202);
      expect(await jsonOf(response)).toMatchObject({ workflowId, deduplicated: false });

      const lines = await waitFor(
        async () =>
          stdout
            .split('\n')
            .filter(Boolean)
            .map((line) => JSON.parse(line) as Record<string, unknown>),
        (entries) => entries.some((e) => e.workflowId === workflowId),
      );
      expect(lines.find((e) => e.workflowId === workflowId)).toMatchObject({
        service: 'spawnguard-ingest',
        level: 30,
        alertId: normalizeAlert(document).alertId,
        msg: 'incident started',
      });
      // The bearer token never reaches the log.
      expect(stdout).not.toContain(token);
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      await client.workflow
        .getHandle(workflowId)
        .terminate('test over')
        .catch(() => undefined);
    }
  });
});
