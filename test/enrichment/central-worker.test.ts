/**
 * `spawnguard worker central` (runCentralWorker): the real workflows and the central activities on
 * a real worker against the dev server. The enrichment child workflow, run on its own, gets its
 * reputation through the worker's `lookupReputation` from a local VirusTotal; the worker stops
 * cleanly when asked; a bad configuration stops it before it connects.
 */
import { randomUUID } from 'node:crypto';
import { ConfigError } from '../../common/config';
import type { CanonicalAlert } from '../../common/alert';
import type { EnrichmentResult } from '../../common/incident-status';
import { WORKFLOW_TYPES } from '../../common/names';
import { PlaybookPolicySchema } from '../../common/playbook';
import { runCentralWorker } from '../../worker/central';
import { testAddress, testClient, uniqueTaskQueue } from '../support/temporal';
import { HASHES, startFakeReputationApi, VALID_KEY } from './fake-reputation-api';

const alert: CanonicalAlert = {
  alertId: `central-worker-${randomUUID()}`,
  source: 'canonical',
  detectedAt: '2026-03-01T10:15:00Z',
  host: { hostname: 'web01' },
  // No executable paths: the enrichment asks no host, only the reputation sources.
  parent: { pid: 4312, name: 'WINWORD.EXE', hashes: { sha256: HASHES.notFound } },
  child: { pid: 6120, name: 'invoice.exe', hashes: { sha256: HASHES.found } },
};

it('serves the enrichment workflow and lookupReputation on its task queue, then stops when asked', async () => {
  const api = await startFakeReputationApi();
  const taskQueue = uniqueTaskQueue('central');
  const stop = new AbortController();
  const log: string[] = [];
  const running = runCentralWorker({
    env: {
      TEMPORAL_ADDRESS: testAddress(),
      TEMPORAL_NAMESPACE: process.env.TEMPORAL_NAMESPACE ?? 'default',
      VT_API_KEY: VALID_KEY,
      VT_API_URL: api.vtUrl,
    },
    signal: stop.signal,
    taskQueue,
    log: (line) => log.push(line),
  });
  try {
    const client = await testClient();
    const result = await client.workflow.execute<(input: unknown) => Promise<EnrichmentResult>>(
      WORKFLOW_TYPES.fileEnrichment,
      {
        taskQueue,
        workflowId: `enrichment-${alert.alertId}`,
        args: [{ alert, policy: PlaybookPolicySchema.parse({}) }],
      },
    );
    expect(result.child.reputation?.results).toContainEqual(
      expect.objectContaining({ source: 'virustotal', status: 'known', malicious: 48 }),
    );
    expect(result.child.reputation?.notConsulted).toContainEqual({
      source: 'malwarebazaar',
      reason: 'MALWAREBAZAAR_API_KEY is not set',
    });
    expect(result.parent.reputation?.results).toContainEqual(
      expect.objectContaining({ source: 'virustotal', status: 'unknown' }),
    );
    expect(api.requests.get(HASHES.found)).toBe(1);
  } finally {
    stop.abort();
    await running;
    await api.close();
  }
  expect(log[0]).toContain(`polling ${taskQueue}`);
  expect(log).toContain('reputation sources: virustotal');
  expect(log).toContain('email is off: MAIL_TO is not set');
  expect(log.join('\n')).not.toContain(VALID_KEY);
  expect(log[log.length - 1]).toBe('spawnguard central worker stopped');
});

it('refuses to start with a bad configuration, naming the variable', async () => {
  const failure = await runCentralWorker({ env: { VT_API_URL: 'not a url', TEMPORAL_ADDRESS: testAddress() } }).catch(
    (err: unknown) => err,
  );
  expect(failure).toBeInstanceOf(ConfigError);
  expect((failure as Error).message).toMatch(/VT_API_URL/);

  await expect(
    runCentralWorker({ env: { SPAWNGUARD_DENYLIST: '/nonexistent/deny.txt', TEMPORAL_ADDRESS: testAddress() } }),
  ).rejects.toThrow(/SPAWNGUARD_DENYLIST: cannot read \/nonexistent\/deny\.txt \(ENOENT\)/);
});
