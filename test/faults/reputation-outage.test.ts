/**
 * Reputation sources failing: a 429 storm (quota exhausted for longer than the backoff allows) and a
 * full outage (nothing listening). A pair with suspect facts must fall back to an analyst's review,
 * never to benign; a pair the host verified (both Microsoft-signed OS binaries where they belong, in
 * an expected relationship) is benign without reputation, as DESIGN.md §6 says, and its reasons show
 * the outage.
 */
import type { Client } from '@temporalio/client';
import { createServer } from 'node:net';
import { createCentralActivities } from '../../activities/central';
import { loadConfig } from '../../common/config';
import type { CentralActivities, IncidentStatus } from '../../common/incident-status';
import { startFakeReputationApi, VALID_KEY, type FakeReputationApi } from '../enrichment/fake-reputation-api';
import {
  createHarness,
  createTestCentralActivities,
  createCentralState,
  statusOf,
  waitFor,
} from '../support/playbook-harness';
import { benignScenario, suspiciousScenario } from '../support/scenarios';
import { testClient } from '../support/temporal';

jest.setTimeout(120_000);

let client: Client;
let api: FakeReputationApi;
beforeAll(async () => {
  client = await testClient();
  api = await startFakeReputationApi();
});
afterAll(() => api.close());

/** A URL on which nothing listens (the port was free a moment ago). */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/api/v3`;
}

/** The real reputation activity against `vtUrl`; mail recorded by the test activities. */
function centralWith(vtUrl: string): CentralActivities {
  const real = createCentralActivities(loadConfig({ VT_API_KEY: VALID_KEY, VT_API_URL: vtUrl }), {
    reputation: { timeoutMs: 2_000, backoff: { maxRetries: 2, initialDelayMs: 200, maxDelayMs: 500 } },
  });
  return { ...createTestCentralActivities(createCentralState()), lookupReputation: real.lookupReputation };
}

describe.each([
  ['a 429 storm', async () => (api.exhaustQuota(10 * 60_000), api.vtUrl)],
  ['an outage', deadUrl],
])('VirusTotal during %s', (_name, vtUrl) => {
  it('an unsigned tool in Downloads starting cmd.exe goes to review, not benign', async () => {
    const h = await createHarness(client, { centralActivities: centralWith(await vtUrl()) });
    const alert = suspiciousScenario(h);
    await h.run(async () => {
      const handle = await h.start(alert, h.policy());
      const status = await waitFor(
        () => statusOf(handle),
        (s) => s.phase === 'awaiting-review' || s.phase === 'closed',
        60_000,
      );
      expect(status.decision?.verdict).toBe('suspicious');
      expect(status.review.status).toBe('pending');
      const report = status.enrichment?.parent.reputation;
      expect(report?.consulted).toEqual(['virustotal']);
      expect(report?.results[0]).toMatchObject({ source: 'virustotal', status: 'unknown' });
      expect(report?.results[0]?.error).toBeTruthy();
      await handle.signal('reject', { analyst: 'test', comment: 'reputation outage drill' });
      expect((await handle.result()).outcome).toBe('closed-false-positive');
    });
  });

  it('services.exe → svchost.exe verified on the host is benign without reputation, the outage in its reasons', async () => {
    const h = await createHarness(client, { centralActivities: centralWith(await vtUrl()) });
    const alert = benignScenario(h);
    await h.run(async () => {
      const handle = await h.start(alert, h.policy());
      const result = (await handle.result()) as IncidentStatus;
      expect(result.outcome).toBe('closed-benign');
      expect(result.decision?.reasons.map((r) => r.code)).toContain('host-verified-os-pair');
      const missing = result.decision?.reasons.filter((r) => r.code === 'no-reputation') ?? [];
      expect(missing).toHaveLength(2);
      for (const reason of missing) expect(reason.evidence).toMatch(/virustotal: /);
      const report = result.enrichment?.child.reputation;
      expect(report?.results[0]).toMatchObject({ source: 'virustotal', status: 'unknown' });
      expect(report?.results[0]?.error).toBeTruthy();
    });
  });
});
